using Sensor.Outputs.Metrics;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>The bounds of the metrics path: a full spool drops its oldest points (counted), a point the
/// server refuses is set aside rather than retried forever.</summary>
public sealed class SpoolAndRejectionTests
{
    [Fact]
    public void AFullSpoolDropsTheOldestPointsAndCountsThem()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var counters = new MetricCounters();
            var spool = new PointSpool(dir, maxBytes: 3 * 1024 * 1024, counters);
            var line = "mail_auth,sensor=s,server=10.0.0.1 count=1i ";
            long ts = 1;
            // ~6 MiB in 1 MiB segments: the oldest segments must go.
            for (int batch = 0; batch < 60; batch++)
                spool.Append(Enumerable.Range(0, 2000).Select(_ => line + ts++).ToList());
            long onDisk = Directory.GetFiles(dir, "spool-*").Sum(f => new FileInfo(f).Length);
            Assert.True(onDisk <= 3 * 1024 * 1024 + 1024 * 1024, $"{onDisk} bytes on disk");
            Assert.True(counters.PointsDropped > 0);
            Assert.Equal(120_000, counters.PointsSpooled);
            // What is left is the newest, in order: the last point written is the last on disk.
            var oldest = spool.Oldest()!.Value;
            Assert.True(long.Parse(oldest.Lines[0].Split(' ')[^1]) > counters.PointsDropped - 1);
            var all = Directory.GetFiles(dir, "spool-*").Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToList();
            Assert.Equal(line + (ts - 1), all[^1]);
            Assert.Equal(120_000 - counters.PointsDropped, all.Count);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task PointsTheServerRefusesAreSetAsideNotRetriedForever()
    {
        // A real 4xx from a real server: InfluxDB 1.6 has no /api/v2/write and answers 404, as
        // InfluxDB 2 does for a bucket that does not exist.
        using var influx = new Grafana.InfluxDbServer();
        var dir = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var writer = new InfluxMetricsWriter(new InfluxSettings { Url = influx.Url, SpoolDirectory = dir });
            string[] lines = ["mail_auth,sensor=s count=1i 1700000000000000000", "mail_auth,sensor=s count=1i 1700000000000000001"];
            foreach (var l in lines) writer.Enqueue(l);
            var stopped = writer.DisposeAsync().AsTask();
            Assert.Same(stopped, await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(20))));
            Assert.Equal(2, writer.Counters.PointsRejected);
            Assert.Equal(0, writer.Counters.PointsWritten);
            Assert.Equal(lines, File.ReadAllLines(Path.Combine(dir, "rejected.lp")));
            Assert.Empty(Directory.GetFiles(dir, "spool-*"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
