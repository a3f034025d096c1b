using System.Buffers.Binary;
using PacketDotNet;
using Sensor.Core.Flows;

namespace Sensor.Capture.Decoding;

/// <summary>
/// The per-packet decoder: link, IP and TCP headers read straight from the frame bytes, with every
/// length checked, and nothing allocated. It replaced PacketDotNet on the hot path after the
/// whole-run benchmark showed decoding dominated `sensor read` (PacketDotNet builds several objects
/// per packet); PacketDotNet stays as the reference the tests compare it with on every bundled
/// capture (tests/Sensor.Integration.Tests, FrameDecoderReferenceTests).
/// Link types: Ethernet with any number (up to 4) of 802.1Q/802.1ad/QinQ tags, Linux cooked SLL and
/// SLL2, raw IP (12, 101, 228, 229), BSD loopback (DLT_NULL 0, DLT_LOOP 108).
/// </summary>
public static class FrameDecoder
{
    private const int DltNull = 0, DltEthernet = 1, DltRawLegacy = 12, DltRaw = 101, DltLoop = 108,
        DltLinuxSll = 113, DltIpv4 = 228, DltIpv6 = 229, DltLinuxSll2 = 276;

    private const ushort EtherIpv4 = 0x0800, EtherIpv6 = 0x86DD, EtherVlan = 0x8100, EtherQinQ = 0x88A8, EtherQinQOld = 0x9100;

    public static bool IsSupported(LinkLayers link) => (int)link is DltNull or DltEthernet or DltRawLegacy or DltRaw
        or DltLoop or DltLinuxSll or DltIpv4 or DltIpv6 or DltLinuxSll2;

    public static DecodeResult Decode(LinkLayers link, ReadOnlySpan<byte> frame, long timestampNs, out TcpSegment segment,
        out bool payloadTruncated)
    {
        segment = default;
        payloadTruncated = false;
        ushort etherType;
        ReadOnlySpan<byte> ip;
        switch ((int)link)
        {
            case DltEthernet:
                if (frame.Length < 14) return DecodeResult.Malformed;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
                ip = frame[14..];
                for (int tags = 0; etherType is EtherVlan or EtherQinQ or EtherQinQOld; tags++)
                {
                    if (tags == 4 || ip.Length < 4) return DecodeResult.Malformed;
                    etherType = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
                    ip = ip[4..];
                }
                break;
            case DltLinuxSll:
                // 16-byte header, protocol type last (linktypes.html, LINKTYPE_LINUX_SLL)
                if (frame.Length < 16) return DecodeResult.Malformed;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]);
                ip = frame[16..];
                break;
            case DltLinuxSll2:
                // 20-byte header, protocol type first (LINKTYPE_LINUX_SLL2)
                if (frame.Length < 20) return DecodeResult.Malformed;
                etherType = BinaryPrimitives.ReadUInt16BigEndian(frame);
                ip = frame[20..];
                break;
            case DltNull:
            case DltLoop:
                // 4-byte address family; its values differ between BSDs, so the IP version nibble decides.
                if (frame.Length < 5) return DecodeResult.Malformed;
                ip = frame[4..];
                etherType = VersionOf(ip);
                break;
            default:
                ip = frame;
                if (ip.IsEmpty) return DecodeResult.Malformed;
                etherType = VersionOf(ip);
                break;
        }

        return etherType switch
        {
            EtherIpv4 => DecodeIpv4(ip, timestampNs, out segment, out payloadTruncated),
            EtherIpv6 => DecodeIpv6(ip, timestampNs, out segment, out payloadTruncated),
            _ => DecodeResult.NotIp,
        };
    }

    private static ushort VersionOf(ReadOnlySpan<byte> ip) => ip.IsEmpty ? (ushort)0 : (ip[0] >> 4) switch
    {
        4 => EtherIpv4,
        6 => EtherIpv6,
        _ => (ushort)0,
    };

    /// <summary>RFC 791 §3.1.</summary>
    private static DecodeResult DecodeIpv4(ReadOnlySpan<byte> p, long ts, out TcpSegment segment, out bool truncated)
    {
        segment = default;
        truncated = false;
        if (p.Length < 20 || (p[0] >> 4) != 4) return DecodeResult.Malformed;
        int headerLength = (p[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        if (totalLength == 0) totalLength = p.Length; // TCP segmentation offload leaves it 0
        if (headerLength < 20 || totalLength < headerLength || p.Length < headerLength) return DecodeResult.Malformed;
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
        if ((fragment & 0x3FFF) != 0) return DecodeResult.Fragment; // MF set or offset non-zero
        if (p[9] != 6) return DecodeResult.NotTcp;
        var src = IpEndpoint.FromIPv4(p[12..16]);
        var dst = IpEndpoint.FromIPv4(p[16..20]);
        int end = Math.Min(totalLength, p.Length);
        truncated = totalLength > p.Length;
        return DecodeTcp(p[headerLength..end], src, dst, ts, out segment);
    }

    /// <summary>RFC 8200 §3-4: extension headers are walked to the TCP header.</summary>
    private static DecodeResult DecodeIpv6(ReadOnlySpan<byte> p, long ts, out TcpSegment segment, out bool truncated)
    {
        segment = default;
        truncated = false;
        if (p.Length < 40 || (p[0] >> 4) != 6) return DecodeResult.Malformed;
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        int end = payloadLength == 0 ? p.Length : 40 + payloadLength; // 0: jumbogram or offload
        truncated = end > p.Length;
        end = Math.Min(end, p.Length);
        var src = IpEndpoint.FromIPv6(p[8..24]);
        var dst = IpEndpoint.FromIPv6(p[24..40]);
        int next = p[6];
        int at = 40;
        for (int hops = 0; ; hops++)
        {
            if (next == 6) break;
            if (hops == 8 || at + 8 > end) return next == 59 ? DecodeResult.NotTcp : DecodeResult.Malformed;
            switch (next)
            {
                case 0: case 43: case 60: // hop-by-hop, routing, destination options
                    int len = (p[at + 1] + 1) * 8;
                    next = p[at];
                    at += len;
                    break;
                case 44: // fragment
                    ushort off = BinaryPrimitives.ReadUInt16BigEndian(p[(at + 2)..]);
                    if ((off & 0xFFF9) != 0) return DecodeResult.Fragment; // offset or M flag
                    next = p[at];
                    at += 8;
                    break;
                case 51: // authentication header (RFC 4302 §2.2)
                    int ah = (p[at + 1] + 2) * 4;
                    next = p[at];
                    at += ah;
                    break;
                default:
                    return DecodeResult.NotTcp;
            }
        }
        if (at > end) return DecodeResult.Malformed;
        return DecodeTcp(p[at..end], src, dst, ts, out segment);
    }

    /// <summary>RFC 9293 §3.1.</summary>
    private static DecodeResult DecodeTcp(ReadOnlySpan<byte> t, UInt128 src, UInt128 dst, long ts, out TcpSegment segment)
    {
        segment = default;
        if (t.Length < 20) return DecodeResult.Malformed;
        int dataOffset = (t[12] >> 4) * 4;
        if (dataOffset < 20 || dataOffset > t.Length) return DecodeResult.Malformed;
        var flags = (TcpFlags)(t[13] & 0x3F);
        segment = new TcpSegment(
            new IpEndpoint(src, BinaryPrimitives.ReadUInt16BigEndian(t)),
            new IpEndpoint(dst, BinaryPrimitives.ReadUInt16BigEndian(t[2..])),
            BinaryPrimitives.ReadUInt32BigEndian(t[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(t[8..]),
            flags, t[dataOffset..], ts);
        return DecodeResult.Tcp;
    }
}
