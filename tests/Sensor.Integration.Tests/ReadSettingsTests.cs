using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests;

/// <summary>
/// `read` takes the same settings as `run` (one loader: file, SENSOR_* variables, options), and every
/// event says which sensor saw it.
/// </summary>
public sealed class ReadSettingsTests
{
    private static readonly string FailThenSuccess = Path.Combine(RepoPaths.Pcaps, "dovecot", "imap-login-fail-then-success.pcap");
    private static readonly string ManyFlows = Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap");

    private static List<JsonNode> Events(SensorProcess.Result run) =>
        run.StdOutLines.Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public void EveryEventNamesTheSensorThatSawItByDefaultTheHostName()
    {
        var run = SensorProcess.Run("read", "--json", ManyFlows);
        Assert.Equal(0, run.ExitCode);
        var events = Events(run);
        Assert.Equal(20, events.Count(e => (string?)e["event_type"] == "auth"));
        Assert.Contains(events, e => (string?)e["event_type"] == "server");
        Assert.All(events, e => Assert.Equal(Environment.MachineName, (string?)e["host"]));
    }

    [Fact]
    public void TheSensorNameComesFromTheOptionOrTheEnvironment()
    {
        var byOption = SensorProcess.Run("read", "--json", "--sensor-name", "span-east-2", FailThenSuccess);
        Assert.All(Events(byOption), e => Assert.Equal("span-east-2", (string?)e["host"]));
        var byEnvironment = SensorProcess.Run(new Dictionary<string, string> { ["SENSOR_Name"] = "span-west-1" }, "read", "--json", FailThenSuccess);
        Assert.All(Events(byEnvironment), e => Assert.Equal("span-west-1", (string?)e["host"]));
    }

    [Fact]
    public void ReadTakesTheServicesSettingsFile()
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-read-config-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "Name": "edge-7", "Guessing": { "Failures": 1 }, "Reassembly": { "MaxFlows": 2 } }""");
        try
        {
            var without = SensorProcess.Run("read", "--json", FailThenSuccess, ManyFlows);
            Assert.DoesNotContain(Events(without), e => (string?)e["event_type"] == "bruteforce");
            Assert.Contains("flows evicted 0,", without.StdErr);

            var with = SensorProcess.Run("read", "--json", "--config", config, FailThenSuccess, ManyFlows);
            Assert.Equal(0, with.ExitCode);
            var events = Events(with);
            // Guessing:Failures 1: the one failed login is an episode.
            Assert.Single(events, e => (string?)e["event_type"] == "bruteforce");
            // Reassembly:MaxFlows 2: the interleaved connections evict each other.
            Assert.Matches(@"flows evicted [1-9]\d*,", with.StdErr);
            Assert.All(events, e => Assert.Equal("edge-7", (string?)e["host"]));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void AnImpossibleSettingInTheFileIsAUsageErrorForReadToo()
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-read-config-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "Guessing": { "Failures": 0 } }""");
        try
        {
            var run = SensorProcess.Run("read", "--config", config, FailThenSuccess);
            Assert.Equal(2, run.ExitCode);
            Assert.StartsWith("sensor: Guessing:", run.StdErr);
            Assert.Equal("", run.StdOut);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public void AMissingSettingsFileIsAUsageError()
    {
        var run = SensorProcess.Run("read", "--config", "/nonexistent/sensor.json", FailThenSuccess);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("sensor: configuration: --config file '/nonexistent/sensor.json' does not exist\n", run.StdErr);
    }
}
