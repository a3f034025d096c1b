namespace Sensor.Core.Flows;

/// <summary>
/// One decoded TCP segment as the reassembler needs it. A ref struct: the payload is a view into
/// the capture buffer and is only valid for the duration of the call that receives it.
/// </summary>
public readonly ref struct TcpSegment
{
    public TcpSegment(IpEndpoint source, IpEndpoint destination, uint sequence, uint acknowledgment,
        TcpFlags flags, ReadOnlySpan<byte> payload, long timestampNs)
    {
        Source = source;
        Destination = destination;
        Sequence = sequence;
        Acknowledgment = acknowledgment;
        Flags = flags;
        Payload = payload;
        TimestampNs = timestampNs;
    }

    public IpEndpoint Source { get; }
    public IpEndpoint Destination { get; }
    public uint Sequence { get; }
    public uint Acknowledgment { get; }
    public TcpFlags Flags { get; }
    public ReadOnlySpan<byte> Payload { get; }
    /// <summary>Packet time, nanoseconds since the Unix epoch. Drives every timeout.</summary>
    public long TimestampNs { get; }

    public bool Has(TcpFlags f) => (Flags & f) == f;
}
