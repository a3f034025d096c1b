using Sensor.Core.Health;

namespace Sensor.Capture.Parallel;

/// <summary>
/// What a worker hands the merge: its events so far and a watermark, the last packet it has fully
/// processed (no later event of this worker can come from a packet at or before it).
/// </summary>
internal sealed class ShardChunk
{
    public required List<OrderedEvent> Events { get; init; }
    public required long Watermark { get; init; }
    /// <summary>Set on the worker's last chunk.</summary>
    public SensorCounters? FinalCounters { get; init; }
    public long PacketsRead { get; init; }
    /// <summary>The worker's latest packet time (every worker reads every frame: all agree).</summary>
    public long ClockNs { get; init; } = long.MinValue;
    public string? ReadError { get; init; }
    public Exception? Failure { get; init; }
}
