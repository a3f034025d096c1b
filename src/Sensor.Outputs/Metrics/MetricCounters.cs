namespace Sensor.Outputs.Metrics;

/// <summary>
/// What the metrics path did; reported in sensor_health and the run summary. Every point queued or
/// found in the spool at start ends in exactly one of written, rejected, dropped or pending (still in
/// the spool): <see cref="PointsInFlight"/> is zero once the writer has stopped. Updated from the
/// capture thread and the writer's task, hence Interlocked.
/// </summary>
public sealed class MetricCounters
{
    /// <summary>Points handed to the writer by this run.</summary>
    public long PointsQueued;
    /// <summary>Points a previous run left in this target's spool, found at start.</summary>
    public long PointsRecovered;
    /// <summary>Points the server accepted (a 2xx answer, or the part of a partial write it kept).</summary>
    public long PointsWritten;
    /// <summary>Points appended to the spool, in all (a spooled point is later written, rejected or dropped).</summary>
    public long PointsSpooled;
    /// <summary>Points in the spool now, waiting for the server.</summary>
    public long PointsPending;
    /// <summary>Points lost: the spool was full or unusable, or a segment's last point was cut short by a crash.</summary>
    public long PointsDropped;
    /// <summary>Points the server refused as data (bad line protocol, field type conflict, outside the retention, too large).</summary>
    public long PointsRejected;
    /// <summary>Points the capture path had to spool itself because the in-memory queue was full.</summary>
    public long PointsQueueFull;
    /// <summary>Write attempts that did not reach a server willing to take the points.</summary>
    public long WriteFailures;

    private volatile string? _lastError;
    private volatile string? _server;

    /// <summary>Why the latest write attempt failed, on one line; null once a write goes through.</summary>
    public string? LastError { get => _lastError; set => _lastError = value; }

    /// <summary>The server as detected on /ping, e.g. "InfluxDB 1.6.7~rc0 (v1 /write)"; null until known.</summary>
    public string? Server { get => _server; set => _server = value; }

    /// <summary>Points in memory (queued or being sent): neither written, rejected, dropped nor spooled.</summary>
    public long PointsInFlight =>
        Interlocked.Read(ref PointsQueued) + Interlocked.Read(ref PointsRecovered)
        - Interlocked.Read(ref PointsWritten) - Interlocked.Read(ref PointsRejected)
        - Interlocked.Read(ref PointsDropped) - Interlocked.Read(ref PointsPending);
}
