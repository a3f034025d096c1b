using Sensor.Integration.Tests.Grafana;
using System.Text.Json.Nodes;
using Sensor.Outputs.Metrics;
using static Sensor.Integration.Tests.Metrics.TestWriter;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// InfluxDB 1.6 with authentication: wrong credentials are a server not ready for us (401), so the
/// points wait in the spool, never set aside; with the right ones the next run delivers them.
/// </summary>
public sealed class InfluxDb1AuthenticationTests : IDisposable
{
    private readonly string _spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;

    public InfluxDb1AuthenticationTests() => LogCapture.Install();

    public void Dispose() => Directory.Delete(_spool, true);

    private static int Auth(SensorProcess.Result run) => run.StdOutLines.Count(l => (string?)JsonNode.Parse(l)!["event_type"] == "auth");

    [Fact]
    public void WrongCredentialsAreSpooledNotSetAsideAndTheRightOnesDeliverEveryPoint()
    {
        using var influx = InfluxDbServer.WithAuthentication();
        const string wrong = "Wr0ng-pw-5x";
        var first = SensorProcess.Run("read", "--json", "--influx-url", influx.Url, "--influx-token", $"{InfluxDbServer.User}:{wrong}",
            "--spool-dir", _spool, Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap"));
        Assert.Equal(6, first.ExitCode); // findings written, metrics not delivered
        var fault = Assert.Single(first.StdErr.Split('\n'), l => l.Contains("InfluxDB at"));
        Assert.Equal($"sensor: warning: InfluxDB at {influx.Url} answers 401 Unauthorized (authorization failed): check the token " +
                     "(for InfluxDB 1.x: user:password); points are spooled and retried", fault);
        Assert.DoesNotContain(wrong, first.StdErr);
        Assert.Contains("0 points written", first.StdErr);
        Assert.Contains("0 refused by the server", first.StdErr);
        var spooled = SpooledLines(_spool);
        Assert.Equal(Auth(first), spooled.Count(l => l.StartsWith("mail_auth,")));
        Assert.Empty(Directory.GetFiles(_spool, "rejected.lp", SearchOption.AllDirectories));

        var second = SensorProcess.Run("read", "--json", "--influx-url", influx.Url,
            "--influx-token", $"{InfluxDbServer.User}:{InfluxDbServer.Password}",
            "--spool-dir", _spool, Path.Combine(RepoPaths.Pcaps, "third-party", "pop3.pcap"));
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(Auth(first) + Auth(second), influx.SumOfCount("mail_sensor", "mail_auth"));
        Assert.DoesNotContain(InfluxDbServer.Password, second.StdErr);
        Assert.Empty(SpooledLines(_spool));
    }

    [Fact]
    public async Task CredentialsInTheAddressAreUsedForInfluxDb1AndNeverPrinted()
    {
        using var influx = InfluxDbServer.WithAuthentication();
        var url = influx.Url.Replace("http://", $"http://{InfluxDbServer.User}:{InfluxDbServer.Password}@");
        var writer = new InfluxMetricsWriter(Settings(url, _spool));
        foreach (var p in Points(5)) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsWritten == 5, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(5, influx.SumOfCount("mail_sensor", "mail_auth"));
        Assert.Equal(influx.Url, writer.TargetUrl);
        Assert.Empty(LogCapture.Containing(InfluxDbServer.Password));
        Assert.DoesNotContain(InfluxDbServer.Password, File.ReadAllText(Path.Combine(writer.SpoolDirectory!, "target.txt")));
        Assert.DoesNotContain(InfluxDbServer.Password, writer.SpoolDirectory);
        AssertAccounted(writer.Counters);
    }
}
