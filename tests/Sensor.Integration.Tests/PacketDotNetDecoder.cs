using PacketDotNet;
using PacketDotNet.Utils;
using Sensor.Capture.Decoding;
using Sensor.Core.Flows;

namespace Sensor.Integration.Tests;

/// <summary>
/// The reference decoder for <see cref="FrameDecoderReferenceTests"/>: link, IP and TCP decoding with
/// PacketDotNet, down to the fields the reassembler needs. It was the sensor's decoder until
/// <see cref="FrameDecoder"/> replaced it on the hot path; an independent implementation of the same
/// job is what the hand-written decoder is checked against.
/// Link types: Ethernet (with 802.1Q and QinQ tags), Linux cooked SLL and SLL2, raw IP (101, 12,
/// 228, 229), BSD loopback (DLT_NULL 0 and DLT_LOOP 108).
/// </summary>
internal sealed class PacketDotNetDecoder
{
    private const int DltLoop = 108;
    private const int DltIpv4 = 228;
    private const int DltIpv6 = 229;

    /// <summary>
    /// Decodes one frame held in <paramref name="buffer"/>[0..length). The segment's payload is a
    /// view into that buffer. PacketDotNet throws on some malformed headers; those become
    /// <see cref="DecodeResult.Malformed"/>, never an escaping exception.
    /// </summary>
    public DecodeResult Decode(LinkLayers link, byte[] buffer, int length, long timestampNs, out TcpSegment segment,
        out bool payloadTruncated)
    {
        segment = default;
        payloadTruncated = false;
        try
        {
            var ip = FindIp(link, new ByteArraySegment(buffer, 0, length));
            if (ip is null) return DecodeResult.NotIp;

            IpEndpoint src, dst;
            if (ip is IPv4Packet v4)
            {
                // Fragments are not reassembled: mail commands ride in small segments that are not
                // fragmented in practice. A first fragment still carries the TCP header, the rest do not.
                if (v4.FragmentOffset != 0 || (v4.FragmentFlags & 0x1) != 0) return DecodeResult.Fragment;
            }
            if (ip.Protocol != ProtocolType.Tcp) return DecodeResult.NotTcp;
            if (ip.PayloadPacket is not TcpPacket tcp) return DecodeResult.Malformed;

            var srcBytes = ip.SourceAddress.GetAddressBytes();
            var dstBytes = ip.DestinationAddress.GetAddressBytes();
            if (ip is IPv4Packet)
            {
                src = new IpEndpoint(IpEndpoint.FromIPv4(srcBytes), tcp.SourcePort);
                dst = new IpEndpoint(IpEndpoint.FromIPv4(dstBytes), tcp.DestinationPort);
            }
            else
            {
                src = new IpEndpoint(IpEndpoint.FromIPv6(srcBytes), tcp.SourcePort);
                dst = new IpEndpoint(IpEndpoint.FromIPv6(dstBytes), tcp.DestinationPort);
            }

            ReadOnlySpan<byte> payload = default;
            var seg = tcp.PayloadDataSegment;
            if (seg is not null && seg.Length > 0)
            {
                int available = Math.Max(0, Math.Min(seg.Length, length - seg.Offset));
                payloadTruncated = available < seg.Length;
                payload = seg.Bytes.AsSpan(seg.Offset, available);
            }

            var flags = TcpFlags.None;
            if (tcp.Synchronize) flags |= TcpFlags.Syn;
            if (tcp.Acknowledgment) flags |= TcpFlags.Ack;
            if (tcp.Finished) flags |= TcpFlags.Fin;
            if (tcp.Reset) flags |= TcpFlags.Rst;
            if (tcp.Push) flags |= TcpFlags.Psh;
            segment = new TcpSegment(src, dst, tcp.SequenceNumber, tcp.AcknowledgmentNumber, flags, payload, timestampNs);
            return DecodeResult.Tcp;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // PacketDotNet is fed hostile bytes here and throws a variety of exceptions on them
            // (argument, index, invalid-operation, overflow, null-reference): each is one malformed packet.
            return DecodeResult.Malformed;
        }
    }

    private static IPPacket? FindIp(LinkLayers link, ByteArraySegment frame)
    {
        switch ((int)link)
        {
            case DltLoop:
            case (int)LinkLayers.Null:
                // 4-byte address family: host order for DLT_NULL, network order for DLT_LOOP.
                // IPv6's family number differs between BSDs (24, 28, 30), so read the IP version nibble instead.
                if (frame.Length < 5) return null;
                return RawIp(new ByteArraySegment(frame.Bytes, frame.Offset + 4, frame.Length - 4));
            case (int)LinkLayers.Raw:
            case (int)LinkLayers.RawLegacy:
            case DltIpv4:
            case DltIpv6:
                return RawIp(frame);
        }

        Packet? packet = link switch
        {
            LinkLayers.Ethernet => new EthernetPacket(frame),
            LinkLayers.LinuxSll => new LinuxSllPacket(frame),
            LinkLayers.LinuxSll2 => new LinuxSll2Packet(frame),
            _ => null,
        };
        return packet?.Extract<IPPacket>();
    }

    private static IPPacket? RawIp(ByteArraySegment frame)
    {
        if (frame.Length < 1) return null;
        return (frame.Bytes[frame.Offset] >> 4) switch
        {
            4 => new IPv4Packet(frame),
            6 => new IPv6Packet(frame),
            _ => null,
        };
    }
}
