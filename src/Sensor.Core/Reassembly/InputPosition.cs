namespace Sensor.Core.Reassembly;

/// <summary>
/// Where in the input the analysis stands when it emits an event: the packet being processed and,
/// while housekeeping closes several connections at that packet, which one. Single-threaded
/// analysis emits events in ascending (Packet, Rank) order by construction; when flows are spread
/// over threads, each shard stamps its events with this and a merge restores exactly that order.
/// </summary>
public sealed class InputPosition
{
    /// <summary>Rank of events caused by the packet itself: after the housekeeping its arrival triggered.</summary>
    public const long PacketPhase = long.MaxValue;

    /// <summary>Ordinal of the packet being processed, from 1; past the last one at end of input.</summary>
    public long Packet;

    /// <summary>
    /// <see cref="PacketPhase"/>, or while idle expiry or end of input closes connections, the closing
    /// connection's place in the single-threaded close order: handshake-only connections before
    /// established ones, each by the packet that last touched it (the order of the LRU lists).
    /// </summary>
    public long Rank = PacketPhase;

    internal static long CloseRank(bool established, long lastPacket) => (established ? 1L << 56 : 0) | lastPacket;
}
