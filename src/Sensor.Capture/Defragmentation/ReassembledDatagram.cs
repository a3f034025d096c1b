using Sensor.Core.Flows;

namespace Sensor.Capture.Defragmentation;

/// <summary>
/// A datagram the defragmenter completed: addresses, protocol (IPv6: the next header of the offset-0
/// fragment's fragment header, RFC 8200 §4.5), the whole payload and the layers its first fragment
/// arrived in. The payload lives in the defragmenter's buffer until <see cref="IpDefragmenter.Release"/>.
/// </summary>
public readonly ref struct ReassembledDatagram
{
    internal ReassembledDatagram(IpDefragmenter.Datagram owner, ReadOnlySpan<byte> payload)
    {
        Owner = owner;
        Payload = payload;
    }

    internal IpDefragmenter.Datagram Owner { get; }
    public byte Version => Owner.Version;
    public UInt128 Source => Owner.Source;
    public UInt128 Destination => Owner.Destination;
    public byte Protocol => Owner.Protocol;
    public ReadOnlySpan<byte> Payload { get; }
    public Encapsulation Context => Owner.Context;
}
