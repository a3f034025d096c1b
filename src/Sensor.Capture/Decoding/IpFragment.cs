using Sensor.Core.Flows;

namespace Sensor.Capture.Decoding;

/// <summary>
/// One IPv4 (RFC 791 §3.2) or IPv6 (RFC 8200 §4.5) fragment as the decoder found it: the datagram's
/// identity, where this piece goes, and the layers it arrived in (so the reassembled datagram keeps
/// its tunnel and tenant). The payload is a view into the capture buffer, valid during the call.
/// </summary>
public readonly ref struct IpFragment
{
    public IpFragment(byte version, UInt128 source, UInt128 destination, uint id, byte protocol, int offset,
        bool more, ReadOnlySpan<byte> payload, bool truncated, Encapsulation context)
    {
        Version = version;
        Source = source;
        Destination = destination;
        Id = id;
        Protocol = protocol;
        Offset = offset;
        More = more;
        Payload = payload;
        Truncated = truncated;
        Context = context;
    }

    public byte Version { get; }
    public UInt128 Source { get; }
    public UInt128 Destination { get; }
    /// <summary>Identification: 16 bits in IPv4, 32 in IPv6.</summary>
    public uint Id { get; }
    /// <summary>IPv4: the header's protocol. IPv6: the fragment header's next header.</summary>
    public byte Protocol { get; }
    /// <summary>Byte offset of this piece in the datagram's payload.</summary>
    public int Offset { get; }
    /// <summary>More fragments follow (MF / M flag).</summary>
    public bool More { get; }
    public ReadOnlySpan<byte> Payload { get; }
    /// <summary>The capture cut this fragment short (snap length): it cannot be used.</summary>
    public bool Truncated { get; }
    public Encapsulation Context { get; }
}
