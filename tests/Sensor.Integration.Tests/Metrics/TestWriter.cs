using Sensor.Outputs.Metrics;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>Writer settings with timings short enough for tests, and what the tests ask of a writer.</summary>
public static class TestWriter
{
    public const long Nov2023 = 1_700_000_000_000_000_000;

    public static InfluxSettings Settings(string url, string spoolBase) => new()
    {
        Url = url,
        SpoolDirectory = spoolBase,
        WriteTimeout = TimeSpan.FromSeconds(1),
        RetryBackoff = TimeSpan.FromMilliseconds(50),
        MaxRetryBackoff = TimeSpan.FromMilliseconds(200),
        ShutdownTimeout = TimeSpan.FromSeconds(3),
        BatchLinger = TimeSpan.FromMilliseconds(20),
    };

    /// <summary><paramref name="count"/> distinct mail_auth points, timestamps one nanosecond apart.</summary>
    public static string[] Points(int count, long first = Nov2023, string sensor = "t") =>
        Enumerable.Range(0, count).Select(i => $"mail_auth,sensor={sensor} count=1i {first + i}").ToArray();

    public static async Task Until(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail("timed out waiting: " + what());
            await Task.Delay(20);
        }
    }

    /// <summary>Every point is in exactly one place: written, rejected, dropped or still in the spool.</summary>
    public static void AssertAccounted(MetricCounters c)
    {
        Assert.Equal(0, c.PointsInFlight);
        Assert.Equal(c.PointsQueued + c.PointsRecovered, c.PointsWritten + c.PointsRejected + c.PointsDropped + c.PointsPending);
    }

    /// <summary>The points in every spool under <paramref name="spoolBase"/>, oldest first per target.</summary>
    public static List<string> SpooledLines(string spoolBase) =>
        SpoolFiles(spoolBase).SelectMany(File.ReadAllLines).Where(l => l.Length > 0).ToList();

    public static List<string> SpoolFiles(string spoolBase) =>
        Directory.Exists(spoolBase)
            ? Directory.GetFiles(spoolBase, "spool-*.lp", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];

    public static string Describe(MetricCounters c) =>
        $"queued {c.PointsQueued} recovered {c.PointsRecovered} written {c.PointsWritten} rejected {c.PointsRejected} " +
        $"dropped {c.PointsDropped} pending {c.PointsPending} spooled {c.PointsSpooled} in flight {c.PointsInFlight} failures {c.WriteFailures} last error {c.LastError}";
}
