using System.Text;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Loss;

/// <summary>
/// Loss never makes a wrong answer (GUIDE.md, "Decisions that hold everywhere"). Every bundled
/// capture with expected events is replayed, in memory, with TCP payload segments missing, as a
/// capture point that never saw them would, through the path of <see cref="GoldenCaptureTests"/>.
/// Captures without expected events, and files that do not read cleanly to their end (truncated,
/// unknown link type), are left out: they have no login to lose.
/// <para>
/// Variants of each capture: every payload-carrying frame dropped on its own (all of them when there
/// are at most 300, else 300 drawn with a pinned seed), and 20 variants (seeds 1 to 20) that drop
/// each payload-carrying frame with probability 10% (at least one). Frames without payload
/// (handshake, pure ACKs, bare FIN or RST) always arrive; a dropped frame that carried data and FIN
/// loses both.
/// </para>
/// Rules, checked on every variant against NAME.expected.jsonl ("the same login" means the same
/// connection, mechanism and username):
/// <list type="number">
/// <item>No auth event names a username the expected file does not have (a null username is allowed).</item>
/// <item>No outcome contradicts the expected events: an auth event with outcome success or failure
///   has an expected auth event on its connection with its mechanism, its username (when both are
///   non-null) and that outcome. Outcome unknown is always allowed.</item>
/// <item>No cleartext where no password crossed: an auth event with exposure cleartext has an
///   expected event on its connection with its mechanism and exposure cleartext (one that leaves
///   exposure out, as crafted/imap-authenticate-cancelled does because no secret crossed, is not).</item>
/// <item>No connection has more auth events than expected: loss may hide logins, never add them.</item>
/// <item>A login whose client stream arrived intact is still reported: if the capture holds the
///   connection's SYN (a capture that begins mid-connection has lost an unknown part of the client
///   stream, as after a gap) and no client-to-server payload segment of its connection was dropped
///   before the first server segment that arrived after the login (a client byte lost before the
///   answer is seen may have been a SASL abort "*", which makes a refusal no attempt) nor at or
///   before the frame with the login's last
///   credential bytes (PASS, LOGIN, APOP, or the last SASL response), the same login is reported,
///   with any outcome its answer allows (unknown when server segments were lost). That frame is
///   the last client payload frame of the connection whose time is at or before the timestamp of
///   the same login in the intact capture's run (the timestamp is the credential's packet time);
///   when the intact run lacks the login, it is the connection's last client payload frame.
///   Server-direction losses, and client losses after that frame, do not lift the obligation.</item>
/// <item>No starttls event the expected file lacks: per connection no more than expected, and an
///   outcome success or failure only as expected.</item>
/// </list>
/// Expected files that name a connection only in part (third-party/ gives dest_port alone) take the
/// connection of the k-th matching event of the intact run; the rules then apply as above (see
/// <see cref="LossOracle"/>).
/// One test per capture; a failure lists the first ten violations with the variant (the dropped
/// frames, numbered from 1 as Wireshark does, or the seed) and the offending event.
/// </summary>
public sealed class SegmentLossTests
{
    private const int MaxSingleDrops = 300;
    private const int SingleDropSampleSeed = 20251130;
    private const int RandomSeeds = 20;
    private const double LossRate = 0.10;
    private const int MaxReported = 10;

    public static TheoryData<string> Captures() => new(GoldenCaptureTests.CaptureList().Where(HasLoginsToLose));

    private static bool HasLoginsToLose(string capture) =>
        ReadExpected(capture).Count > 0 && CapturedFrames.Load(Path.Combine(RepoPaths.Pcaps, capture)).ReadCleanly;

    [Theory]
    [MemberData(nameof(Captures))]
    public void LosingSegmentsNeverMakesAWrongAnswer(string capture)
    {
        var frames = CapturedFrames.Load(Path.Combine(RepoPaths.Pcaps, capture));
        var oracle = new LossOracle(frames, ReadExpected(capture), Events(frames, null));

        var reported = new List<string>();
        int violations = 0, variantsViolating = 0, variants = 0;
        foreach (var (name, dropped) in Variants(frames))
        {
            variants++;
            var found = oracle.Violations(Events(frames, dropped), dropped).ToList();
            if (found.Count == 0) continue;
            variantsViolating++;
            violations += found.Count;
            foreach (var v in found.Take(MaxReported - reported.Count)) reported.Add($"{name}: {v}");
        }

        Assert.True(violations == 0,
            $"{capture}: {violations} violations in {variantsViolating} of {variants} loss variants; the first {reported.Count}:\n  "
            + string.Join("\n  ", reported));
    }

    private static List<MailEvent> Events(CapturedFrames frames, bool[]? dropped) =>
        frames.Analyse(dropped).Select(MailEvent.FromSensor).OfType<MailEvent>().ToList();

    private static IEnumerable<(string Name, bool[] Dropped)> Variants(CapturedFrames capture)
    {
        int n = capture.Frames.Count;
        var payload = Enumerable.Range(0, n).Where(i => capture.Frames[i].CarriesPayload).ToArray();
        if (payload.Length == 0) yield break;

        var singles = payload.Length <= MaxSingleDrops ? payload : Sample(payload, MaxSingleDrops, SingleDropSampleSeed);
        foreach (int i in singles)
        {
            var dropped = new bool[n];
            dropped[i] = true;
            yield return ($"frame {Describe(capture, i)} dropped", dropped);
        }

        for (int seed = 1; seed <= RandomSeeds; seed++)
        {
            var rng = new Random(seed);
            var dropped = new bool[n];
            foreach (int i in payload) dropped[i] = rng.NextDouble() < LossRate;
            if (!dropped.Any(d => d)) dropped[payload[rng.Next(payload.Length)]] = true;
            var which = Enumerable.Range(0, n).Where(i => dropped[i]).ToList();
            string list = string.Join(" ", which.Take(20).Select(i => $"#{i + 1}")) + (which.Count > 20 ? " …" : "");
            yield return ($"seed {seed} ({which.Count} of {payload.Length} payload frames dropped: {list})", dropped);
        }
    }

    /// <summary><paramref name="count"/> of <paramref name="items"/>, drawn with a pinned seed, in capture order.</summary>
    private static int[] Sample(int[] items, int count, int seed)
    {
        var a = (int[])items.Clone();
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int j = rng.Next(i, a.Length);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a.Take(count).Order().ToArray();
    }

    /// <summary>"#12 10.0.0.1:40000->10.0.0.2:143 "a1 LOGIN alice secr…"" for a failure message.</summary>
    private static string Describe(CapturedFrames capture, int i)
    {
        var f = capture.Frames[i];
        var text = new StringBuilder();
        foreach (byte b in f.Payload.Take(24))
            text.Append(b switch { (byte)'\r' => "\\r", (byte)'\n' => "\\n", >= 0x20 and < 0x7f => ((char)b).ToString(), _ => "." });
        return $"#{i + 1} {f.Source}->{f.Destination} \"{text}{(f.Payload.Length > 24 ? "…" : "")}\"";
    }

    private static List<MailEvent> ReadExpected(string capture)
    {
        var full = Path.Combine(RepoPaths.Pcaps, capture);
        var stem = full.EndsWith(".pcapng") ? full[..^".pcapng".Length] : full[..^".pcap".Length];
        var path = stem + ".expected.jsonl";
        if (!File.Exists(path)) return [];
        return File.ReadAllLines(path)
            .Where(l => l.Trim().Length > 0)
            .Select(l => MailEvent.FromExpected(JsonNode.Parse(l)!.AsObject()))
            .OfType<MailEvent>()
            .ToList();
    }
}
