namespace Sensor.Outputs.Metrics;

/// <summary>What the metrics path did; reported in sensor_health and the run summary.</summary>
public sealed class MetricCounters
{
    public long PointsQueued;
    public long PointsWritten;
    public long PointsSpooled;
    public long PointsDropped;
    public long PointsRejected;
    public long WriteFailures;
}
