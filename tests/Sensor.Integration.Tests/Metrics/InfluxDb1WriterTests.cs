using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Grafana;
using Sensor.Outputs.Metrics;
using static Sensor.Integration.Tests.Metrics.TestWriter;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// The sensor against Debian's real InfluxDB 1.6, which has no v2 API: found out on /ping, written
/// through /write, the database created when missing; its refusals (field type conflict, retention)
/// are partial writes whose dropped points are counted as rejected and the others as written.
/// One server for the class, a database per test.
/// </summary>
public sealed class InfluxDb1WriterTests : IClassFixture<InfluxDbServer>, IDisposable
{
    private readonly InfluxDbServer _influx;
    private readonly string _spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;

    public InfluxDb1WriterTests(InfluxDbServer influx)
    {
        _influx = influx;
        LogCapture.Install();
    }

    public void Dispose() => Directory.Delete(_spool, true);

    [Fact]
    public void ReadFindsInfluxDb16OnPingCreatesTheDatabaseAndEveryEventIsCounted()
    {
        var run = SensorProcess.Run("read", "--json", "--influx-url", _influx.Url, "--influx-bucket", "db_read", "--spool-dir", _spool,
            "--sensor-name", "v1-test", RepoPaths.Pcaps);
        Assert.Equal(0, run.ExitCode);
        var events = run.StdOutLines.Select(l => JsonNode.Parse(l)!).ToList();
        int auth = events.Count(e => (string?)e["event_type"] == "auth");
        int tls = events.Count(e => (string?)e["event_type"] == "starttls");
        // Every capture's client is 127.0.0.1, so reading them all in one run may cross a guessing threshold:
        // each bruteforce event is a mail_bruteforce point too.
        int bruteforce = events.Count(e => (string?)e["event_type"] == "bruteforce");
        int servers = events.Count(e => (string?)e["event_type"] == "server"); // a mail_server point each
        Assert.True(auth > 100, $"only {auth} auth events");

        Assert.Equal(auth, Sum("db_read", "SELECT sum(\"count\") FROM \"mail_auth\""));
        Assert.Equal(tls, Sum("db_read", "SELECT sum(\"count\") FROM \"mail_starttls\""));
        Assert.Equal(auth, Sum("db_read", "SELECT count(\"count\") FROM \"mail_auth\" WHERE \"sensor\"='v1-test'"));
        Assert.Contains($"metrics: {auth + tls + bruteforce + servers} points written", run.StdErr);
        var said = Assert.Single(run.StdErr.Split('\n'), l => l.Contains("InfluxDB at"));
        Assert.Equal($"sensor: information: InfluxDB at {_influx.Url} had no database db_read: created it", said);
        Assert.Empty(SpooledLines(_spool));
    }

    [Fact]
    public async Task AFieldTypeConflictRejectsThatPointAloneAndTheOthersAreWritten()
    {
        _influx.Execute("CREATE DATABASE db_conflict");
        _influx.Write("db_conflict", ["mail_auth,sensor=t count=1i 1700000000000000000"]);
        var writer = new InfluxMetricsWriter(Settings(_influx.Url, _spool) with { Bucket = "db_conflict" });
        string[] batch = ["mail_auth,sensor=t count=1i 1700000000000000001", "mail_auth,sensor=t count=1.5 1700000000000000002", "mail_auth,sensor=t count=1i 1700000000000000003"];
        foreach (var p in batch) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsRejected + writer.Counters.PointsWritten == 3, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(1, writer.Counters.PointsRejected);
        Assert.Equal(2, writer.Counters.PointsWritten);
        AssertAccounted(writer.Counters);
        Assert.Equal(3, Sum("db_conflict", "SELECT count(\"count\") FROM \"mail_auth\""));
        var line = Assert.Single(LogCapture.Containing(writer.SpoolDirectory!));
        Assert.StartsWith($"error: InfluxDB at {_influx.Url} refused 1 points (400 Bad Request: partial write: field type conflict:", line);
        Assert.Contains(batch[1], File.ReadAllLines(Path.Combine(writer.SpoolDirectory!, "rejected.lp")));
    }

    [Fact]
    public async Task PointsOutsideTheRetentionAreRejectedCountedAndSaidToBeOutsideIt()
    {
        // The shortest retention 1.x allows; the capture-time points of November 2023 are outside it.
        _influx.Execute("CREATE DATABASE db_retention WITH DURATION 1h");
        var writer = new InfluxMetricsWriter(Settings(_influx.Url, _spool) with { Bucket = "db_retention" });
        long now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        string[] batch = [.. Points(2), $"mail_auth,sensor=t count=1i {now}"];
        foreach (var p in batch) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsRejected + writer.Counters.PointsWritten == 3, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(2, writer.Counters.PointsRejected);
        Assert.Equal(1, writer.Counters.PointsWritten);
        AssertAccounted(writer.Counters);
        Assert.Equal(1, Sum("db_retention", "SELECT count(\"count\") FROM \"mail_auth\""));
        var line = Assert.Single(LogCapture.Containing(writer.SpoolDirectory!));
        Assert.StartsWith($"warning: InfluxDB at {_influx.Url} refused 2 points as outside the retention of database \"db_retention\" (400 Bad Request: partial write: points beyond retention policy dropped=2)", line);
    }

    private long Sum(string database, string query)
    {
        using var doc = _influx.Query(database, query);
        var result = doc.RootElement.GetProperty("results")[0];
        return result.TryGetProperty("series", out var series) ? series[0].GetProperty("values")[0][1].GetInt64() : 0;
    }
}
