using System.Globalization;

namespace Sensor.CaptureGenerator;

/// <summary>The command line of capture-gen.</summary>
internal sealed class Options
{
    public const string Usage =
        "usage: capture-gen --out FILE.pcap --sessions N [--seed S] [--concurrency C] [--body-kib K] [--noise-ratio R]\n" +
        "  --out FILE.pcap     capture to write (classic pcap, microseconds, Ethernet); FILE.expected.json is written beside it\n" +
        "  --sessions N        number of IMAP/POP3 sessions (required, >= 0)\n" +
        "  --seed S            seed of System.Random (default 1); same arguments give a byte-identical file\n" +
        "  --concurrency C     connections kept active at once and interleaved (default 200)\n" +
        "  --body-kib K        size of the message each logged-in session fetches/retrieves, in KiB (default 16, 0 = none, max 16384)\n" +
        "  --noise-ratio R     extra non-mail flows (HTTP on 80, TLS on 443) = round(N * R) (default 0.3)";

    public string Out { get; private set; } = "";
    public long Sessions { get; private set; } = -1;
    public int Seed { get; private set; } = 1;
    public int Concurrency { get; private set; } = 200;
    public int BodyKib { get; private set; } = 16;
    public double NoiseRatio { get; private set; } = 0.3;

    public long NoiseFlows => (long)Math.Round(Sessions * NoiseRatio, MidpointRounding.AwayFromZero);

    public string ExpectedPath => Path.ChangeExtension(Out, ".expected.json");

    public static bool TryParse(string[] args, out Options options, out string? error)
    {
        options = new Options();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") { error = ""; return false; }
            if (i + 1 >= args.Length) { error = $"missing value after {a}"; return false; }
            string v = args[++i];
            var inv = CultureInfo.InvariantCulture;
            switch (a)
            {
                case "--out":
                    options.Out = v;
                    break;
                case "--sessions":
                    if (!long.TryParse(v, NumberStyles.None, inv, out long n)) { error = $"--sessions: not a number: {v}"; return false; }
                    options.Sessions = n;
                    break;
                case "--seed":
                    if (!int.TryParse(v, NumberStyles.AllowLeadingSign, inv, out int s)) { error = $"--seed: not a 32-bit integer: {v}"; return false; }
                    options.Seed = s;
                    break;
                case "--concurrency":
                    if (!int.TryParse(v, NumberStyles.None, inv, out int c) || c < 1 || c > 1_000_000) { error = $"--concurrency: 1..1000000 expected: {v}"; return false; }
                    options.Concurrency = c;
                    break;
                case "--body-kib":
                    if (!int.TryParse(v, NumberStyles.None, inv, out int k) || k > 16384) { error = $"--body-kib: 0..16384 expected: {v}"; return false; }
                    options.BodyKib = k;
                    break;
                case "--noise-ratio":
                    if (!double.TryParse(v, NumberStyles.Float, inv, out double r) || !(r >= 0) || r > 100) { error = $"--noise-ratio: 0..100 expected: {v}"; return false; }
                    options.NoiseRatio = r;
                    break;
                default:
                    error = $"unknown option: {a}";
                    return false;
            }
        }
        if (options.Out.Length == 0) { error = "--out is required"; return false; }
        if (options.Sessions < 0) { error = "--sessions is required"; return false; }
        return true;
    }
}
