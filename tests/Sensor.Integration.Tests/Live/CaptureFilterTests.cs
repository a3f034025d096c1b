namespace Sensor.Integration.Tests.Live;

/// <summary>
/// A capture filter libpcap cannot compile is a usage error (exit 2), not an unavailable interface
/// (exit 4): one line on stderr naming the setting and libpcap's own reason. It is found before any
/// interface is looked for, so neither a missing interface nor a service manager waiting for one
/// hides it.
/// </summary>
public sealed class CaptureFilterTests
{
    /// <summary>The setting, the command, its environment, and what libpcap says (its words, not ours).</summary>
    public static TheoryData<string, string[], Dictionary<string, string>, string> BadFilters() => new()
    {
        { "--filter", ["run", "-i", "lo", "--events", "-", "--filter", "tcp port"], new(), "syntax error" },
        { "--filter", ["run", "-i", "no-such-if0", "--events", "-", "--filter", "tcp port"], new(), "syntax error" },
        // Run by a service manager a missing interface is waited for; a bad filter still is not.
        { "--filter", ["run", "-i", "no-such-if0", "--events", "-", "--filter", "tcp port"], new() { ["NOTIFY_SOCKET"] = "/nonexistent/notify" }, "syntax error" },
        { "Capture:Filter", ["run", "-i", "lo", "--events", "-"], new() { ["SENSOR_Capture__Filter"] = "port 143 and bogus" }, "unknown port 'bogus'" },
    };

    [Theory]
    [MemberData(nameof(BadFilters))]
    public void AnInvalidFilterIsOneLineNamingTheOptionWithLibpcapsReasonAndExitTwo(string option, string[] args, Dictionary<string, string> environment, string libpcapSays)
    {
        var run = SensorProcess.Run(environment, args);
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.StdOut);
        var lines = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.StdErr}");
        Assert.StartsWith("sensor: --filter (Capture:Filter) '", lines[0]);
        Assert.Contains(option, lines[0]);
        Assert.Contains("is not a valid BPF filter: ", lines[0]);
        Assert.EndsWith(libpcapSays, lines[0]);
    }
}
