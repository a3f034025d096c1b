namespace Sensor.Outputs.Metrics;

/// <summary>Where metrics go. No URL: the sensor writes no metrics and everything else works the same.</summary>
public sealed record InfluxSettings
{
    public string? Url { get; init; }
    public string? Token { get; init; }
    public string Org { get; init; } = "mail-sensor";
    public string Bucket { get; init; } = "mail_sensor";
    /// <summary>The `sensor` tag on every point.</summary>
    public string SensorName { get; init; } = Environment.MachineName;
    /// <summary>Points held on disk while InfluxDB is unreachable; the oldest are dropped beyond it (counted).</summary>
    public string SpoolDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "mail-sensor-spool");
    public long MaxSpoolBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>Points queued in memory between the capture path and the writer.</summary>
    public int QueueCapacity { get; init; } = 100_000;
    public int BatchSize { get; init; } = 5_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}
