using Sensor.Core.Flows;

namespace Sensor.Core.Reassembly;

/// <summary>
/// Receives one connection's bytes in order, per direction. Modelled on gopacket's reassembly
/// Stream: data in order, an honest count of the bytes given up on, and one close.
/// </summary>
public interface IStreamConsumer
{
    /// <summary>In-order bytes. Returns false when the consumer wants no more payload of this
    /// connection (not mail, or the connection turned into TLS): the reassembler then stops
    /// buffering it and only watches for its end.</summary>
    bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs);

    /// <summary>Bytes that will never arrive (lost before the capture point or given up on at a bound).</summary>
    void OnGap(StreamDirection direction, long skippedBytes, long timestampNs);

    /// <summary>
    /// The peer acknowledged bytes of <paramref name="direction"/> that were not delivered: lost before
    /// the capture point (a gap will follow) or still to arrive out of order. What the peer sends next
    /// may already answer them. Reported once per new acknowledgment, before that segment's payload.
    /// </summary>
    void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs) { }

    /// <summary>The connection ended (FIN both ways, RST, idle expiry, eviction, or end of input).</summary>
    void OnClose(FlowCloseReason reason, long timestampNs);
}

public enum FlowCloseReason : byte
{
    Fin,
    Reset,
    IdleTimeout,
    Evicted,
    EndOfInput,
}
