using System.Globalization;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Points carry the capture's time, which for a file can be years old. InfluxDB refuses points outside
/// its retention and says so (counted as rejected); VictoriaMetrics takes them with 204 and drops them
/// silently (its default retention is a month). The sensor cannot see that, so it says once, when it
/// sends a point older than 30 days to a server that did not identify itself as InfluxDB.
/// </summary>
public sealed class RetentionWarning(InfluxTarget target)
{
    private static readonly TimeSpan Old = TimeSpan.FromDays(30);
    private bool _warned;

    /// <summary>Whether the server is InfluxDB (X-Influxdb-Version on /ping), which refuses old points aloud.</summary>
    public bool ServerRefusesOldPoints { get; set; }

    public void Check(IReadOnlyList<string> sentLines)
    {
        if (_warned || ServerRefusesOldPoints) return;
        long oldest = long.MaxValue;
        foreach (var line in sentLines)
        {
            var ts = line.AsSpan(line.LastIndexOf(' ') + 1);
            if (long.TryParse(ts, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ns) && ns < oldest) oldest = ns;
        }
        if (oldest == long.MaxValue) return;
        var time = DateTime.UnixEpoch.AddTicks(oldest / 100);
        if (DateTime.UtcNow - time < Old) return;
        _warned = true;
        Log.Warning("metrics: points are timestamped with the capture's time ({Oldest}); {Url} did not say it is InfluxDB, and servers with a " +
                    "shorter retention (VictoriaMetrics' default: 1 month) drop such points without saying so: check its retention, or read with --metrics-time now",
            time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), target.Url);
    }
}
