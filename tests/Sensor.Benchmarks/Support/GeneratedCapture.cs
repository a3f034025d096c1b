using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Sensor.Benchmarks.Support;

/// <summary>
/// Captures made by the project's generator (tests/Sensor.CaptureGenerator, built with this
/// project), cached under $TMPDIR/sensor-bench and remade when the generator binary is newer.
/// </summary>
public static class GeneratedCapture
{
    public static string RepoRoot { get; } =
        typeof(GeneratedCapture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SensorRepoRoot")?.Value
        ?? throw new InvalidOperationException("SensorRepoRoot metadata missing");

    /// <summary>Path of the capture with <paramref name="sessions"/> mail sessions and seed <paramref name="seed"/>.</summary>
    public static string Get(int sessions, int seed)
    {
        string gen = FindGenerator();
        string dir = Path.Combine(Path.GetTempPath(), "sensor-bench");
        Directory.CreateDirectory(dir);
        string pcap = Path.Combine(dir, $"bdn-s{sessions}-seed{seed}.pcap");
        string expected = Path.ChangeExtension(pcap, ".expected.json");
        var genTime = File.GetLastWriteTimeUtc(gen + ".dll");
        if (File.Exists(pcap) && File.Exists(expected) && File.GetLastWriteTimeUtc(pcap) >= genTime) return pcap;

        string tmp = Path.Combine(dir, $".bdn-{Environment.ProcessId}.pcap");
        var psi = new ProcessStartInfo(gen)
        {
            ArgumentList = { "--out", tmp, "--sessions", sessions.ToString(), "--seed", seed.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {gen}");
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{gen} failed ({p.ExitCode}): {err}");
        File.Move(Path.ChangeExtension(tmp, ".expected.json"), expected, overwrite: true);
        File.Move(tmp, pcap, overwrite: true);
        return pcap;
    }

    /// <summary>A number from the generator's expected file (e.g. "auth_events", "packets").</summary>
    public static long Expected(string pcap, string field)
    {
        string json = File.ReadAllText(Path.ChangeExtension(pcap, ".expected.json"));
        var m = Regex.Match(json, "\"" + Regex.Escape(field) + "\"\\s*:\\s*(\\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value) : -1;
    }

    private static string FindGenerator()
    {
        foreach (var config in new[] { "Release", "Debug" })
        {
            string path = Path.Combine(RepoRoot, "tests", "Sensor.CaptureGenerator", "bin", config, "net10.0", "capture-gen");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            "capture-gen not built: dotnet build tests/Sensor.CaptureGenerator -c Release (from " + RepoRoot + ")");
    }
}
