namespace Sensor.Core.Reassembly;

/// <summary>
/// Bounds on reassembly state. When one is hit the reassembler gives up on the missing bytes
/// (reporting a gap) or drops the newest data, counts it, and goes on: never unbounded growth.
/// </summary>
public sealed record ReassemblyLimits
{
    /// <summary>
    /// Connections tracked at once; the least recently active one is evicted beyond this. An idle
    /// connection costs 379 bytes before it carries data, 651 as an IMAP and 803 as a POP3 session
    /// (tests/Sensor.Benchmarks --flow-memory), so the default keeps a one-million-SYN flood under
    /// 150 MB of resident memory (bench/flood.sh).
    /// </summary>
    public int MaxFlows { get; init; } = 100_000;

    /// <summary>Out-of-order bytes held per connection (both directions) waiting for a hole to fill.</summary>
    public int MaxBufferedBytesPerFlow { get; init; } = 256 * 1024;

    /// <summary>Out-of-order bytes held across all connections.</summary>
    public long MaxBufferedBytesTotal { get; init; } = 64L * 1024 * 1024;

    /// <summary>Out-of-order segments held per direction (bounds the per-flow list, whatever their size).</summary>
    public int MaxBufferedSegmentsPerDirection { get; init; } = 512;

    /// <summary>A connection with no packet for this long (packet time) is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A connection that never carried payload (a SYN, a scan) is closed sooner.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
