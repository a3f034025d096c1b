using System.Diagnostics;
using Sensor.Outputs.Metrics;
using static Sensor.Integration.Tests.Metrics.TestWriter;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// Answers no real server gives on demand, from a minimal loopback HTTP server: a hang, 5xx, 401/403/
/// 404, 400, 413, 422. Each fault is one log line naming its cause; points wait in the spool or are
/// set aside and counted, never counted as written unless the server took them; every point is
/// accounted for once the writer has stopped.
/// </summary>
public sealed class ServerFaultTests : IDisposable
{
    private readonly string _spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;

    public ServerFaultTests() => LogCapture.Install();

    public void Dispose() => Directory.Delete(_spool, true);

    private static List<string> Warnings(FakeInfluxServer server) =>
        server.LogLines().Where(l => l.StartsWith("warning:") || l.StartsWith("error:")).ToList();

    [Fact]
    public async Task AServerThatAcceptsConnectionsButNeverAnswersTimesOutAndItsPointsAreSpooled()
    {
        using var server = new FakeInfluxServer(hangEverything: true);
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool));
        foreach (var p in Points(100)) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsPending == 100 && writer.Counters.WriteFailures >= 2, TimeSpan.FromSeconds(15), () => Describe(writer.Counters));

        var stopping = Stopwatch.StartNew();
        await writer.DisposeAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"shutdown took {stopping.Elapsed}");

        var c = writer.Counters;
        Assert.Equal(0, c.PointsWritten);
        Assert.Equal(100, c.PointsPending);
        AssertAccounted(c);
        Assert.Equal(Points(100), SpooledLines(_spool));
        var line = Assert.Single(Warnings(server));
        Assert.Equal($"warning: InfluxDB at {server.Url} did not answer within 1 s; points are spooled and retried", line);
    }

    [Fact]
    public async Task ShutdownCancelsAWriteThatHangsAndSpoolsItsPointsWithinItsDeadline()
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, _) => FakeInfluxServer.Hang;
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool) with
        {
            WriteTimeout = TimeSpan.FromSeconds(60),
            ShutdownTimeout = TimeSpan.FromSeconds(1),
        });
        foreach (var p in Points(10)) writer.Enqueue(p);
        await Until(() => server.Requests.Any(r => r.Path.StartsWith("/api/v2/write")), TimeSpan.FromSeconds(10), () => "no write came");

        var stopping = Stopwatch.StartNew();
        await writer.DisposeAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(4), $"shutdown took {stopping.Elapsed}");

        Assert.Equal(0, writer.Counters.PointsWritten);
        Assert.Equal(10, writer.Counters.PointsPending);
        AssertAccounted(writer.Counters);
        var line = Assert.Single(Warnings(server));
        Assert.Contains("had not answered when the sensor stopped", line);
    }

    [Fact]
    public async Task ServerErrorsAreLoggedOnceRetriedFromTheSpoolAndTheRecoveryIsLogged()
    {
        using var server = new FakeInfluxServer();
        // InfluxDB.Client passes on the server's message as it is, newlines and all.
        server.Answer = (_, _) => new FakeInfluxServer.Reply(503, "{\"code\":\"unavailable\",\"message\":\"shutting down\\nplease retry\"}");
        // A loaded machine can take over a second to answer: the 1 s test default would then log a
        // second condition (no answer) besides the one this test is about.
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool) with { WriteTimeout = TimeSpan.FromSeconds(10) });
        var points = Points(50);
        foreach (var p in points) writer.Enqueue(p);
        await Until(() => writer.Counters.WriteFailures >= 4, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        Assert.Equal(0, writer.Counters.PointsWritten);
        Assert.Equal(50, writer.Counters.PointsPending);
        Assert.Contains("503", writer.Counters.LastError);

        server.Answer = (_, _) => new FakeInfluxServer.Reply(204);
        await Until(() => writer.Counters.PointsWritten == 50, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(points, server.Accepted); // once each, in order
        Assert.Equal(0, writer.Counters.PointsPending);
        Assert.Null(writer.Counters.LastError);
        AssertAccounted(writer.Counters);
        var fault = Assert.Single(Warnings(server));
        Assert.Equal($"warning: InfluxDB at {server.Url} answers 503 Service Unavailable on /api/v2/write (shutting down please retry); points are spooled and retried", fault);
        Assert.Single(server.LogLines(), l => l.Contains("takes points again"));
        Assert.Empty(SpooledLines(_spool));
    }

    [Theory]
    [InlineData(401, "unauthorized access", "check the token")]
    [InlineData(403, "insufficient permissions for write", "may not write to bucket \"mail_sensor\"")]
    [InlineData(404, "bucket \\\"mail_sensor\\\" not found", "check that bucket \"mail_sensor\" exists in org \"mail-sensor\"")]
    public async Task NotReadyForUsIsRetriedNeverSetAside(int status, string message, string advice)
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, _) => new FakeInfluxServer.Reply(status, $"{{\"code\":\"x\",\"message\":\"{message}\"}}");
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool) with { Token = "tok-3f9a-never-printed" });
        foreach (var p in Points(20)) writer.Enqueue(p);
        await Until(() => writer.Counters.WriteFailures >= 3, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        var c = writer.Counters;
        Assert.Equal(0, c.PointsWritten);
        Assert.Equal(0, c.PointsRejected);
        Assert.Equal(20, c.PointsPending);
        AssertAccounted(c);
        Assert.False(File.Exists(Path.Combine(writer.SpoolDirectory!, "rejected.lp")));
        var line = Assert.Single(Warnings(server));
        Assert.Contains($"answers {InfluxAnswer.StatusText(status)}", line);
        Assert.Contains(advice, line);
        Assert.Empty(LogCapture.Containing("tok-3f9a"));
    }

    [Fact]
    public async Task PointsOutsideTheRetentionAreSetAsideCountedAndSaidToBeOutsideIt()
    {
        // InfluxDB 2 keeps the rest of a batch and answers 422 "partial write: points beyond
        // retention policy dropped=N" for the points older than the bucket's retention.
        using var server = new FakeInfluxServer();
        server.Answer = (_, body) =>
        {
            int old = body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => long.Parse(l.Split(' ')[^1]) < Nov2023);
            return old == 0
                ? new FakeInfluxServer.Reply(204)
                : new FakeInfluxServer.Reply(422, $"{{\"code\":\"unprocessable entity\",\"message\":\"failure writing points to database: partial write: points beyond retention policy dropped={old}\"}}");
        };
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool));
        var old = Points(2, first: 1_370_000_000_000_000_000); // June 2013
        var recent = Points(3);
        foreach (var p in old.Concat(recent)) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsRejected + writer.Counters.PointsWritten == 5, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        foreach (var p in Points(2, first: 1_370_000_000_000_000_100)) writer.Enqueue(p); // the same again: counted, not logged again
        await Until(() => writer.Counters.PointsRejected == 4, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        var c = writer.Counters;
        Assert.Equal(4, c.PointsRejected);
        Assert.Equal(0, c.PointsPending);
        AssertAccounted(c);
        var line = Assert.Single(Warnings(server));
        Assert.Contains("refused 2 points as outside the retention of bucket \"mail_sensor\"", line);
        Assert.Contains("rejected.lp", line);
        var rejected = File.ReadAllLines(Path.Combine(writer.SpoolDirectory!, "rejected.lp"));
        Assert.StartsWith("# ", rejected[0]);
        Assert.Contains("refused 2 of the 5 points below", rejected[0]);
        Assert.Equal(old.Concat(recent), rejected.Skip(1).Take(5));
        // The server said nothing of old points being dropped silently: it refused them aloud.
        Assert.DoesNotContain(server.LogLines(), l => l.Contains("drop such points without saying so"));
    }

    [Fact]
    public async Task BadLineProtocolIsRefusedAsDataSetAsideAndNotSentAgain()
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, _) => new FakeInfluxServer.Reply(400, "{\"code\":\"invalid\",\"message\":\"unable to parse 'x': missing fields\"}");
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool));
        foreach (var p in Points(7)) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsRejected == 7, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await Task.Delay(300); // time for a retry, were there one
        await writer.DisposeAsync();

        Assert.Single(server.Requests, r => r.Path.StartsWith("/api/v2/write"));
        Assert.Equal(0, writer.Counters.PointsWritten);
        Assert.Equal(0, writer.Counters.PointsPending);
        AssertAccounted(writer.Counters);
        var line = Assert.Single(Warnings(server));
        Assert.StartsWith("error: InfluxDB at " + server.Url + " refused 7 points (400 Bad Request: unable to parse 'x': missing fields); set aside in", line);
        Assert.Equal(Points(7), File.ReadAllLines(Path.Combine(writer.SpoolDirectory!, "rejected.lp")).Skip(1));
    }

    [Fact]
    public async Task ARequestTooLargeIsSplitUntilItPassesAndOnlyAPointTooLargeAloneIsRefused()
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, body) =>
        {
            var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Length > 3 || lines.Any(l => l.Contains("huge")) ? new FakeInfluxServer.Reply(413, "{\"message\":\"request too large\"}") : new FakeInfluxServer.Reply(204);
        };
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool));
        var points = Points(20).ToList();
        points.Insert(7, "mail_auth,sensor=huge count=1i 1700000000000000999");
        foreach (var p in points) writer.Enqueue(p);
        await Until(() => writer.Counters.PointsWritten + writer.Counters.PointsRejected == 21, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(20, writer.Counters.PointsWritten);
        Assert.Equal(1, writer.Counters.PointsRejected);
        Assert.Equal(points.Where(p => !p.Contains("huge")), server.Accepted);
        AssertAccounted(writer.Counters);
        Assert.Contains("413 Request Entity Too Large", Assert.Single(Warnings(server)));
    }

    [Fact]
    public async Task WhileTheServerIsDownTheQueueKeepsDrainingToTheSpoolAndTheOrderIsKept()
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, _) => new FakeInfluxServer.Reply(503);
        var writer = new InfluxMetricsWriter(Settings(server.Url, _spool) with { QueueCapacity = 1000, BatchSize = 500 });
        var points = Points(12_000);
        // Bursts smaller than the queue: as long as the writer moves each to the spool, the capture
        // never has to touch the disk itself (before, a non-empty spool stopped the draining).
        for (int i = 0; i < 10_000; i += 250)
        {
            foreach (var p in points.AsSpan(i, 250)) writer.Enqueue(p);
            int spooled = i + 250;
            await Until(() => writer.Counters.PointsPending == spooled, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        }
        await Until(() => writer.Counters.PointsPending == 10_000, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        Assert.Equal(0, writer.Counters.PointsQueueFull);
        Assert.Equal(0, writer.Counters.PointsWritten);

        server.Answer = (_, _) => new FakeInfluxServer.Reply(204);
        for (int i = 10_000; i < 12_000; i += 250)
        {
            foreach (var p in points.AsSpan(i, 250)) writer.Enqueue(p); // newer: after the spooled ones
            await Task.Delay(5);
        }
        await Until(() => writer.Counters.PointsWritten == 12_000, TimeSpan.FromSeconds(20), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        Assert.Equal(points, server.Accepted);
        Assert.Equal(0, writer.Counters.PointsQueueFull);
        AssertAccounted(writer.Counters);
        Assert.Empty(SpooledLines(_spool));
    }

    [Fact]
    public async Task WithNoUsableSpoolPointsThatCannotBeSentAreDroppedAndCountedNeverACrash()
    {
        using var server = new FakeInfluxServer();
        server.Answer = (_, _) => new FakeInfluxServer.Reply(500, "{\"message\":\"internal error\"}");
        var file = Path.Combine(_spool, "not-a-directory");
        File.WriteAllText(file, "");
        var writer = new InfluxMetricsWriter(Settings(server.Url, file));
        foreach (var p in Points(30)) writer.Enqueue(p);
        await Until(() => writer.Counters.WriteFailures >= 2, TimeSpan.FromSeconds(10), () => Describe(writer.Counters));
        await writer.DisposeAsync();

        var c = writer.Counters;
        Assert.Null(writer.SpoolDirectory);
        Assert.Equal(0, c.PointsWritten);
        Assert.Equal(30, c.PointsDropped);
        AssertAccounted(c);
        Assert.Single(LogCapture.Containing(file), l => l.Contains("cannot be used"));
        Assert.Contains("no usable spool", Assert.Single(Warnings(server)));
    }
}
