using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests;

/// <summary>
/// A fault in the sensor itself during a `read` (a bug, not bad input: bad input has its own answers
/// and analyzer faults stay inside their connection). It used to escape to System.CommandLine's
/// handler: a stack trace, exit code 1 ("no input could be read") and the findings still in the
/// writer's buffer lost. Now the findings made before it are written, the summary names the file,
/// and the exit code is 70 (EX_SOFTWARE). The fault is injected for real by MAIL_SENSOR_TEST_FAULT
/// (TestFault: read-frame:N), as the live service's tests do.
/// </summary>
public sealed class InternalErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-internal-error-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void AFaultMidFileKeepsTheFindingsBeforeItAndExitsWithItsOwnCode()
    {
        var capture = Path.Combine(_dir, "mail.pcap");
        var generate = ExternalProcess.RunToEnd(RepoPaths.CaptureGenerator,
            ["--out", capture, "--sessions", "300", "--seed", "11"], TimeSpan.FromSeconds(120));
        Assert.True(generate.Code == 0, generate.Err);
        var whole = SensorProcess.Run("read", "--json", "--threads", "1", capture);
        Assert.Equal(0, whole.ExitCode);

        var faulted = SensorProcess.Run(new Dictionary<string, string> { ["MAIL_SENSOR_TEST_FAULT"] = "read-frame:5000" },
            "read", "--json", "--threads", "1", capture);

        Assert.Equal(70, faulted.ExitCode);
        Assert.Contains("internal error while reading " + capture, faulted.StdErr);
        Assert.Contains("test fault injected at frame 5000", faulted.StdErr);
        Assert.Contains($"problem: {capture}: internal error", faulted.StdErr); // the summary says which file
        // The findings before the fault, whole and in order: the start of the whole read's (its server
        // events, made at the end of a file, excepted).
        var before = faulted.StdOutLines;
        Assert.InRange(before.Length, 20, whole.StdOutLines.Length - 1);
        Assert.Equal(whole.StdOutLines.Take(before.Length), before);
    }

    [Fact]
    public void AFaultInTheFirstOfTwoFilesStopsTheReadThere()
    {
        var first = Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap");
        var second = Path.Combine(RepoPaths.Pcaps, "third-party", "pop3.pcap");
        var faulted = SensorProcess.Run(new Dictionary<string, string> { ["MAIL_SENSOR_TEST_FAULT"] = "read-frame:200" },
            "read", "--json", "--threads", "1", first, second);
        Assert.Equal(70, faulted.ExitCode);
        Assert.NotEmpty(faulted.StdOutLines);
        Assert.DoesNotContain(faulted.StdOutLines, l => l.Contains("\"pcap_file\":\"" + second + "\"", StringComparison.Ordinal));
    }
}
