using System.Diagnostics.CodeAnalysis;

namespace Sensor.Core.Flows;

/// <summary>
/// One decoded TCP segment as the reassembler needs it. A ref struct: the payload is a view into
/// the capture buffer and is only valid for the duration of the call that receives it.
/// </summary>
public readonly ref struct TcpSegment
{
    public TcpSegment(IpEndpoint source, IpEndpoint destination, uint sequence, uint acknowledgment,
        TcpFlags flags, ReadOnlySpan<byte> payload, long timestampNs)
        : this(source, destination, sequence, acknowledgment, flags, payload, timestampNs, default)
    {
    }

    public TcpSegment(IpEndpoint source, IpEndpoint destination, uint sequence, uint acknowledgment,
        TcpFlags flags, ReadOnlySpan<byte> payload, long timestampNs, scoped in Encapsulation tunnel)
    {
        _tunnel = tunnel;
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

    private readonly Encapsulation _tunnel;

    /// <summary>The tags and tunnels it arrived in (empty for plain traffic); its realm keys the connection.</summary>
    /// <remarks>By reference: read for its realm on every packet, and a copy of its 88 bytes there was a
    /// memmove per packet (callgrind, docs/performance.md).</remarks>
    [UnscopedRef]
    public ref readonly Encapsulation Tunnel => ref _tunnel;

    public bool Has(TcpFlags f) => (Flags & f) == f;
}
