namespace Sensor.Outputs.Metrics;

/// <summary>Where metrics go. No URL: the sensor writes no metrics and everything else works the same.</summary>
public sealed record InfluxSettings
{
    /// <summary>The server's address. Credentials in it (http://user:password@host) are never printed.</summary>
    public string? Url { get; init; }
    /// <summary>
    /// An InfluxDB 2 token, or for InfluxDB 1.x "user:password" (sent as HTTP basic authentication;
    /// anything else is sent as "Authorization: Token …", which 1.8 and later accept).
    /// </summary>
    public string? Token { get; init; }
    public string Org { get; init; } = "mail-sensor";
    /// <summary>The bucket (InfluxDB 2) or database (InfluxDB 1.x, created when missing).</summary>
    public string Bucket { get; init; } = "mail_sensor";
    /// <summary>The write API: <see cref="InfluxApi.Auto"/> asks the server's /ping.</summary>
    public InfluxApi Api { get; init; } = InfluxApi.Auto;
    /// <summary>The `sensor` tag on every point.</summary>
    public string SensorName { get; init; } = Environment.MachineName;
    /// <summary>
    /// The base of the spool: points are held on disk in a sub-directory per server and bucket (see
    /// <see cref="SpoolLocation"/>) while that server does not take them; the oldest are dropped beyond
    /// <see cref="MaxSpoolBytes"/> (counted).
    /// </summary>
    public string SpoolDirectory { get; init; } = SpoolLocation.DefaultForUser();
    public long MaxSpoolBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>Points the server refused are kept in rejected.lp up to this size, then only counted.</summary>
    public long MaxRejectedBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>Points queued in memory between the capture path and the writer.</summary>
    public int QueueCapacity { get; init; } = 100_000;
    public int BatchSize { get; init; } = 5_000;
    /// <summary>How long the writer waits for more points to fill a batch.</summary>
    public TimeSpan BatchLinger { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>A server that accepts the connection but does not answer within this is taken as down.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The first wait before trying again after a failed write; doubled up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// At shutdown, how long the writer may go on delivering; then the write in flight is cancelled
    /// and what is left goes to the spool for the next start.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}
