namespace Sensor.Integration.Tests;

/// <summary>
/// Every bad option value is a usage error: one line on stderr naming the option, exit 2, nothing
/// on stdout, no stack trace. `run` checks its options before it opens an interface, so these
/// need no capture permission.
/// </summary>
public sealed class CommandLineErrorTests
{
    private static readonly string Capture = Path.Combine(RepoPaths.Pcaps, "crafted", "pop3-user-pass.pcap");

    public static TheoryData<string, string[]> BadValues() => new()
    {
        { "--threads", ["read", "--threads", "abc", Capture] },
        { "--threads", ["read", "--threads", "0", Capture] },
        { "--threads", ["read", "--threads", "99999999999", Capture] },
        { "--max-flows", ["read", "--max-flows", "x", Capture] },
        { "--max-flows", ["read", "--max-flows", "0", Capture] },
        { "--influx-url", ["read", "--influx-url", "::bad", Capture] },
        { "--influx-url", ["read", "--influx-url", "ftp://example.invalid/", Capture] },
        { "--workers", ["run", "-i", "lo", "--workers", "x"] },
        { "--workers", ["run", "-i", "lo", "--workers", "-1"] },
        { "--snaplen", ["run", "-i", "lo", "--snaplen", "q"] },
        { "--snaplen", ["run", "-i", "lo", "--snaplen", "10"] },
        { "--buffer-size", ["run", "-i", "lo", "--buffer-size", "q"] },
        { "--buffer-size", ["run", "-i", "lo", "--buffer-size", "0"] },
        { "--influx-url", ["run", "-i", "lo", "--influx-url", "::bad"] },
        { "--promiscuous", ["run", "-i", "lo", "--promiscuous", "maybe"] },
        { "--fanout-group", ["run", "-i", "lo", "--fanout-group", "x"] },
        { "--fanout-group", ["run", "-i", "lo", "--fanout-group", "65536"] },
        { "--fanout-group", ["run", "-i", "lo", "--fanout-group", "-1"] },
        { "--no-such-option", ["read", "--no-such-option", Capture] },
        { "--influx-api", ["read", "--influx-api", "v3", Capture] },
        { "--influx-api", ["run", "-i", "lo", "--influx-api", "0"] },
        { "--filter", ["read", "--filter", "tcp port", Capture] },
        { "--metrics-time", ["read", "--metrics-time", "later", Capture] },
        { "--metrics-time", ["read", "--metrics-time", "", Capture] },
        { "--filter", ["run", "-i", "lo", "--filter", "tcp port"] },
        { "--config", ["read", "--config", "/nonexistent/sensor.json", Capture] },
        { "--home-net", ["read", "--home-net", "10.0.0.0/33", Capture] },
        { "--home-net", ["read", "--home-net", "intranet", Capture] },
        { "--home-net", ["read", "--home-net", "10.0.0.0/8,,2001:db8::1/32", Capture] },
        { "--home-net", ["read", "--home-net", ",", Capture] },
        { "--home-net", ["run", "-i", "lo", "--home-net", "10.1.2.3/8"] },
        { "--config", ["run", "-i", "lo", "--config", "/nonexistent/sensor.json"] },
        { "--config", ["read", "--config", "/dev/zero", Capture] }, // read without end before: gigabytes
        { "--config", ["read", "--config", "", Capture] },
        { "--events", ["read", "--events", "", Capture] }, // these three were an ArgumentException (exit 70)
        { "--report", ["read", "--report", "", Capture] },
        { "--spool-dir", ["read", "--spool-dir", " ", Capture] },
        { "--events", ["run", "-i", "lo", "--events", ""] },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void ABadValueIsOneLineOnStderrAndExitTwo(string option, string[] args)
    {
        var run = SensorProcess.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.StdOut);
        var lines = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.StdErr}");
        Assert.StartsWith("sensor: ", lines[0]);
        Assert.True(lines[0].Contains(option, StringComparison.Ordinal) || option == "--promiscuous", lines[0]);
        Assert.DoesNotContain("Exception", run.StdErr);
    }

    [Fact]
    public void AFanoutGroupFromTheEnvironmentIsCheckedToo()
    {
        // The template unit sets the group through the environment: a wrong one must not reach the kernel.
        var run = SensorProcess.Run(new Dictionary<string, string> { ["SENSOR_Capture__FanoutGroup"] = "65536" }, "run", "-i", "lo", "--events", "-");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("sensor: Capture:FanoutGroup must be between 0 and 65535 (packet(7): the group id is 16 bits)", run.StdErr.Trim());
    }

    [Fact]
    public void InfluxUrlFromTheEnvironmentIsCheckedToo()
    {
        var run = SensorProcess.Run(new Dictionary<string, string> { ["SENSOR_Influx__Url"] = "http//user:s3cret@influx" }, "read", Capture);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("sensor: Influx:Url must be an http:// or https:// address (the value is not repeated: it may hold credentials)", run.StdErr.Trim());
        Assert.DoesNotContain("s3cret", run.StdErr);
    }

    [Theory]
    [InlineData("SENSOR_Decoding__VxlanPorts", "4789,abc", "Decoding:VxlanPorts: 'abc' is not a port number (0-65535)")]
    [InlineData("SENSOR_Decoding__GenevePorts", "70000", "Decoding:GenevePorts: '70000' is not a port number (0-65535)")]
    [InlineData("SENSOR_Analysis__ImapPorts", "-1", "Analysis:ImapPorts: '-1' is not a port number (0-65535)")]
    public void APortListFromTheEnvironmentNamesTheSettingAndTheValue(string variable, string value, string message)
    {
        var run = SensorProcess.Run(new Dictionary<string, string> { [variable] = value }, "read", Capture);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("sensor: configuration: " + message, run.StdErr.Trim());
    }
}
