using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PacketDotNet;
using Sensor.Capture.Defragmentation;
using Sensor.Core.Flows;

namespace Sensor.Capture.Decoding;

/// <summary>
/// The per-packet decoder: link, tag, tunnel, IP and TCP headers read straight from the frame bytes,
/// with every length checked, and nothing allocated. It replaced PacketDotNet on the hot path after
/// the whole-run benchmark showed decoding dominated `sensor read`; PacketDotNet stays as the
/// reference the tests compare it with on every bundled capture (FrameDecoderReferenceTests).
/// <para>
/// Link types: Ethernet, Linux cooked SLL and SLL2, raw IP (12, 101, 228, 229), BSD loopback
/// (DLT_NULL 0, DLT_LOOP 108). Inside them, as mirrored traffic arrives: 802.1Q/802.1ad/QinQ tags (up
/// to 4 per Ethernet header), MPLS label stacks, PPPoE sessions, GRE (with ERSPAN types I-III and
/// transparent Ethernet bridging), VXLAN and GENEVE over UDP, IPv4/IPv6 in IPv4/IPv6 — peeled off in
/// one loop (no recursion), at most <see cref="DecoderSettings.MaxTunnelDepth"/> tunnel layers, each
/// recorded in the packet's <see cref="Encapsulation"/>. IP fragments are handed back
/// (<see cref="DecodeResult.Fragment"/>) for the pipeline's <see cref="IpDefragmenter"/>, whose
/// datagrams come back through <see cref="DecodeReassembled"/> with the layers they arrived in.
/// </para>
/// </summary>
public static class FrameDecoder
{
    private const int DltNull = 0, DltEthernet = 1, DltRawLegacy = 12, DltRaw = 101, DltLoop = 108,
        DltLinuxSll = 113, DltIpv4 = 228, DltIpv6 = 229, DltLinuxSll2 = 276;

    private const ushort EtherIpv4 = 0x0800, EtherIpv6 = 0x86DD, EtherVlan = 0x8100, EtherQinQ = 0x88A8,
        EtherQinQOld = 0x9100, EtherMplsUnicast = 0x8847, EtherMplsMulticast = 0x8848, EtherPppoeSession = 0x8864,
        EtherTransparentBridging = 0x6558, EtherErspanII = 0x88BE, EtherErspanIII = 0x22EB;

    private const byte ProtoIpInIp = 4, ProtoTcp = 6, ProtoUdp = 17, ProtoIpv6InIp = 41, ProtoGre = 47, ProtoMplsInIp = 137;

    /// <summary>A layer decoder's answer for "go on with the next layer" (Tcp is never its final answer).</summary>
    private const DecodeResult Continue = DecodeResult.Tcp;

    /// <summary>What comes next while peeling layers.</summary>
    private enum Layer : byte { Ethernet, Ipv4, Ipv6, IpByVersion, Mpls, PppoeSession, Gre, Udp, Tcp }

    public static bool IsSupported(LinkLayers link) => (int)link is DltNull or DltEthernet or DltRawLegacy or DltRaw
        or DltLoop or DltLinuxSll or DltIpv4 or DltIpv6 or DltLinuxSll2;

    /// <summary>Default settings, fragments and tunnels as <see cref="Decode(DecoderSettings, LinkLayers, ReadOnlySpan{byte}, long, out TcpSegment, out IpFragment, out bool)"/>.</summary>
    public static DecodeResult Decode(LinkLayers link, ReadOnlySpan<byte> frame, long timestampNs, out TcpSegment segment,
        out bool payloadTruncated) =>
        Decode(DecoderSettings.Default, link, frame, timestampNs, out _, out segment, out _, out payloadTruncated);

    /// <summary>
    /// The endpoints of a frame of the commonest kind, plain Ethernet II carrying an unfragmented
    /// IPv4 packet without options carrying TCP, read without decoding it, so that a worker of a file
    /// read can pass by another worker's packet cheaply. True only where <see cref="Decode(DecoderSettings, LinkLayers, ReadOnlySpan{byte}, long, out Encapsulation, out TcpSegment, out IpFragment, out bool)"/>
    /// returns <see cref="DecodeResult.Tcp"/> with these endpoints and no encapsulation (realm 0): the
    /// checks are the decoder's own, in the same order (EncapsulationDecodingTests compares the two).
    /// Anything else (tags, tunnels, options, fragments, damage) is false and left to the decoder.
    /// </summary>
    public static bool TryPeekEthernetIpv4Tcp(LinkLayers link, ReadOnlySpan<byte> frame, out IpEndpoint source, out IpEndpoint destination)
    {
        source = destination = default;
        // Ethernet II (14 bytes) + IPv4 without options (20) + the TCP header's fixed part (20).
        if ((int)link != DltEthernet || frame.Length < 54 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherIpv4) return false;
        var ip = frame[14..];
        if (ip[0] != 0x45 || ip[9] != ProtoTcp || (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0) return false;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength == 0) totalLength = ip.Length; // as the decoder: TCP segmentation offload leaves it 0
        if (totalLength < 20) return false;
        int tcpLength = Math.Min(totalLength, ip.Length) - 20;
        int dataOffset = (ip[32] >> 4) * 4;
        if (tcpLength < 20 || dataOffset < 20 || dataOffset > tcpLength) return false;
        source = new IpEndpoint(IpEndpoint.FromIPv4(ip[12..16]), BinaryPrimitives.ReadUInt16BigEndian(ip[20..]));
        destination = new IpEndpoint(IpEndpoint.FromIPv4(ip[16..20]), BinaryPrimitives.ReadUInt16BigEndian(ip[22..]));
        return true;
    }

    /// <summary>
    /// The commonest frame on a mirror port, plain Ethernet II carrying IPv4 carrying TCP, decoded in
    /// one straight run: the same checks as <see cref="Walk"/> and <see cref="DecodeTcp"/>, in the same
    /// order and with the same answers, without the layer loop (FrameDecoderReferenceTests and the
    /// fast-path property test compare the two). False, with nothing decided, for anything else
    /// (tags, other ethertypes, IPv6, options-free or not); fragments and non-TCP protocols are
    /// left to the general walk too, which counts them.
    /// </summary>
    private static bool TryDecodeEthernetIpv4Tcp(ReadOnlySpan<byte> frame, long ts, ref TcpSegment segment, out bool truncated,
        out DecodeResult result)
    {
        truncated = false;
        result = DecodeResult.Tcp;
        if (frame.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherIpv4) return false;
        var ip = frame[14..];
        // RFC 791 §3.1: version 4; fragments and other protocols take the general path.
        if ((ip[0] >> 4) != 4 || ip[9] != ProtoTcp || (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0) return false;
        int headerLength = (ip[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength == 0) totalLength = ip.Length; // TCP segmentation offload leaves it 0
        if (headerLength < 20 || totalLength < headerLength || ip.Length < headerLength)
        {
            result = DecodeResult.Malformed;
            return true;
        }
        truncated = totalLength > ip.Length;
        var t = ip[headerLength..Math.Min(totalLength, ip.Length)];
        // RFC 9293 §3.1
        int dataOffset;
        if (t.Length < 20 || (dataOffset = (t[12] >> 4) * 4) < 20 || dataOffset > t.Length)
        {
            result = DecodeResult.Malformed;
            return true;
        }
        segment = new TcpSegment(
            new IpEndpoint(IpEndpoint.FromIPv4(ip[12..16]), BinaryPrimitives.ReadUInt16BigEndian(t)),
            new IpEndpoint(IpEndpoint.FromIPv4(ip[16..20]), BinaryPrimitives.ReadUInt16BigEndian(t[2..])),
            BinaryPrimitives.ReadUInt32BigEndian(t[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(t[8..]),
            (TcpFlags)(t[13] & 0x3F), t[dataOffset..], ts, default);
        return true;
    }

    /// <param name="tunnel">The layers found, whatever the result (for counting).</param>
    public static DecodeResult Decode(DecoderSettings settings, LinkLayers link, ReadOnlySpan<byte> frame, long timestampNs,
        out Encapsulation tunnel, out TcpSegment segment, out IpFragment fragment, out bool payloadTruncated)
    {
        tunnel = default;
        // Only the answer's own is written (segment for Tcp, fragment for Fragment): clearing both
        // first was some 140 instructions a packet (two ~180-byte structs, cleared a word at a time
        // because each holds a span), for values no caller reads under another answer. The caller's
        // storage keeps a valid value of its type, so nothing is left for the GC to misread.
        Unsafe.SkipInit(out segment);
        Unsafe.SkipInit(out fragment);
        payloadTruncated = false;
        Layer next;
        ReadOnlySpan<byte> p;
        switch ((int)link)
        {
            case DltEthernet:
                if (TryDecodeEthernetIpv4Tcp(frame, timestampNs, ref segment, out payloadTruncated, out var plain)) return plain;
                next = Layer.Ethernet;
                p = frame;
                break;
            case DltLinuxSll:
                // 16-byte header, protocol type last (linktypes.html, LINKTYPE_LINUX_SLL)
                if (frame.Length < 16) return DecodeResult.Malformed;
                if (!OfEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame[14..]), out next)) return DecodeResult.NotIp;
                p = frame[16..];
                break;
            case DltLinuxSll2:
                // 20-byte header, protocol type first (LINKTYPE_LINUX_SLL2)
                if (frame.Length < 20) return DecodeResult.Malformed;
                if (!OfEtherType(BinaryPrimitives.ReadUInt16BigEndian(frame), out next)) return DecodeResult.NotIp;
                p = frame[20..];
                break;
            case DltNull:
            case DltLoop:
                // 4-byte address family; its values differ between BSDs, so the IP version nibble decides.
                if (frame.Length < 5) return DecodeResult.Malformed;
                p = frame[4..];
                next = Layer.IpByVersion;
                break;
            default:
                if (frame.IsEmpty) return DecodeResult.Malformed;
                p = frame;
                next = Layer.IpByVersion;
                break;
        }
        return Walk(settings, next, p, 0, default, default, ref tunnel, timestampNs, ref segment, ref fragment, out payloadTruncated);
    }

    /// <summary>
    /// Goes on with a datagram the defragmenter put back together: its payload, protocol (IPv6: the
    /// fragment header's next header, so extension headers after it are walked) and the layers its
    /// first fragment arrived in.
    /// </summary>
    public static DecodeResult DecodeReassembled(DecoderSettings settings, scoped in ReassembledDatagram datagram, long timestampNs,
        out Encapsulation tunnel, out TcpSegment segment, out IpFragment fragment, out bool payloadTruncated)
    {
        tunnel = datagram.Context;
        Unsafe.SkipInit(out segment); // as in Decode: only the answer's own is written
        Unsafe.SkipInit(out fragment);
        return Walk(settings, datagram.Version == 6 ? Layer.Ipv6 : Layer.Ipv4, datagram.Payload, datagram.Protocol,
            datagram.Source, datagram.Destination, ref tunnel, timestampNs, ref segment, ref fragment, out payloadTruncated,
            reassembled: true);
    }

    /// <summary>
    /// Peels layers off until the TCP header. <paramref name="reassembled"/>: <paramref name="p"/> is
    /// already an IP payload, <paramref name="protocol"/> its protocol and the addresses given.
    /// </summary>
    /// <remarks>
    /// <paramref name="segment"/> and <paramref name="fragment"/> come in cleared by the caller, and
    /// only the answer's own is written: clearing them here again (they are some 200 bytes each, with
    /// the encapsulation inside) was a good part of the decoder's 800 instructions per packet
    /// (callgrind; figures in docs/performance.md).
    /// </remarks>
    private static DecodeResult Walk(DecoderSettings settings, Layer next, ReadOnlySpan<byte> p, int protocol,
        UInt128 src, UInt128 dst, scoped ref Encapsulation tunnel, long ts, ref TcpSegment segment, ref IpFragment fragment,
        out bool truncated, bool reassembled = false)
    {
        truncated = false;
        while (true)
        {
            switch (next)
            {
                case Layer.Ethernet:
                {
                    if (p.Length < 14) return DecodeResult.Malformed;
                    ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(p[12..]);
                    p = p[14..];
                    for (int tags = 0; etherType is EtherVlan or EtherQinQ or EtherQinQOld; tags++)
                    {
                        if (tags == 4 || p.Length < 4) return DecodeResult.Malformed;
                        tunnel.Add(TunnelKind.Vlan, BinaryPrimitives.ReadUInt16BigEndian(p) & 0x0FFFu, settings.VlanSeparatesConnections);
                        etherType = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
                        p = p[4..];
                    }
                    if (!OfEtherType(etherType, out next)) return DecodeResult.NotIp;
                    break;
                }
                case Layer.IpByVersion:
                    if (p.IsEmpty) return DecodeResult.Malformed;
                    switch (p[0] >> 4)
                    {
                        case 4: next = Layer.Ipv4; break;
                        case 6: next = Layer.Ipv6; break;
                        default: return DecodeResult.NotIp;
                    }
                    break;
                case Layer.Ipv4:
                    if (reassembled)
                    {
                        reassembled = false;
                    }
                    else
                    {
                        // RFC 791 §3.1
                        if (p.Length < 20 || (p[0] >> 4) != 4) return DecodeResult.Malformed;
                        int headerLength = (p[0] & 0x0F) * 4;
                        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
                        if (totalLength == 0) totalLength = p.Length; // TCP segmentation offload leaves it 0
                        if (headerLength < 20 || totalLength < headerLength || p.Length < headerLength) return DecodeResult.Malformed;
                        src = IpEndpoint.FromIPv4(p[12..16]);
                        dst = IpEndpoint.FromIPv4(p[16..20]);
                        protocol = p[9];
                        bool cut = totalLength > p.Length;
                        truncated |= cut;
                        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
                        var payload = p[headerLength..Math.Min(totalLength, p.Length)];
                        if ((flagsAndOffset & 0x3FFF) != 0) // MF set or offset non-zero
                        {
                            fragment = new IpFragment(4, src, dst, BinaryPrimitives.ReadUInt16BigEndian(p[4..]), (byte)protocol,
                                (flagsAndOffset & 0x1FFF) * 8, (flagsAndOffset & 0x2000) != 0, payload, cut, tunnel);
                            return DecodeResult.Fragment;
                        }
                        p = payload;
                    }
                    if (!OfIpProtocol(protocol, ref tunnel, out next, out var v4Result)) return v4Result;
                    break;
                case Layer.Ipv6:
                {
                    int at;
                    int nextHeader;
                    if (reassembled)
                    {
                        // The fragmentable part: extension headers (if any) from its start.
                        reassembled = false;
                        nextHeader = protocol;
                        at = 0;
                    }
                    else
                    {
                        // RFC 8200 §3
                        if (p.Length < 40 || (p[0] >> 4) != 6) return DecodeResult.Malformed;
                        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
                        int end = payloadLength == 0 ? p.Length : 40 + payloadLength; // 0: jumbogram or offload
                        truncated |= end > p.Length;
                        p = p[..Math.Min(end, p.Length)];
                        src = IpEndpoint.FromIPv6(p[8..24]);
                        dst = IpEndpoint.FromIPv6(p[24..40]);
                        nextHeader = p[6];
                        at = 40;
                    }
                    // RFC 8200 §4: extension headers are walked to the upper layer.
                    for (int hops = 0; ; hops++)
                    {
                        if (nextHeader is ProtoTcp or ProtoUdp or ProtoIpInIp or ProtoIpv6InIp or ProtoGre or ProtoMplsInIp) break;
                        if (hops == 8 || at + 8 > p.Length) return nextHeader == 59 ? DecodeResult.NotTcp : DecodeResult.Malformed;
                        switch (nextHeader)
                        {
                            case 0: case 43: case 60: // hop-by-hop, routing, destination options
                                int len = (p[at + 1] + 1) * 8;
                                nextHeader = p[at];
                                at += len;
                                break;
                            case 44: // fragment (§4.5)
                                ushort off = BinaryPrimitives.ReadUInt16BigEndian(p[(at + 2)..]);
                                if ((off & 0xFFF9) != 0) // offset or M flag: a real fragment
                                {
                                    fragment = new IpFragment(6, src, dst, BinaryPrimitives.ReadUInt32BigEndian(p[(at + 4)..]), p[at],
                                        (off >> 3) * 8, (off & 1) != 0, p[(at + 8)..], truncated, tunnel);
                                    return DecodeResult.Fragment;
                                }
                                nextHeader = p[at]; // an atomic fragment (RFC 6946): the whole datagram
                                at += 8;
                                break;
                            case 51: // authentication header (RFC 4302 §2.2)
                                int ah = (p[at + 1] + 2) * 4;
                                nextHeader = p[at];
                                at += ah;
                                break;
                            default:
                                return DecodeResult.NotTcp;
                        }
                    }
                    if (at > p.Length) return DecodeResult.Malformed;
                    p = p[at..];
                    if (!OfIpProtocol(nextHeader, ref tunnel, out next, out var v6Result)) return v6Result;
                    break;
                }
                case Layer.Tcp:
                    return DecodeTcp(p, src, dst, ts, tunnel, ref segment);
                case Layer.Udp:
                {
                    // RFC 768. Only tunnels are wanted from UDP: VXLAN and GENEVE by destination port.
                    if (p.Length < 8) return DecodeResult.Malformed;
                    byte kind = settings.UdpTunnels[BinaryPrimitives.ReadUInt16BigEndian(p[2..])];
                    if (kind == 0) return DecodeResult.NotTcp;
                    int length = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
                    if (length < 8) length = p.Length; // 0: a jumbogram's UDP (RFC 2675) or offload
                    truncated |= length > p.Length;
                    p = p[8..Math.Min(length, p.Length)];
                    var result = kind == DecoderSettings.UdpVxlan ? Vxlan(ref p, ref tunnel, out next) : Geneve(ref p, ref tunnel, out next);
                    if (result != Continue) return result;
                    if (tunnel.TunnelDepth > DecoderSettings.MaxTunnelDepth) return DecodeResult.TooDeep;
                    break;
                }
                case Layer.Gre:
                {
                    var result = Gre(ref p, ref tunnel, out next);
                    if (result != Continue) return result;
                    if (tunnel.TunnelDepth > DecoderSettings.MaxTunnelDepth) return DecodeResult.TooDeep;
                    break;
                }
                case Layer.Mpls:
                {
                    var result = Mpls(ref p, ref tunnel, out next);
                    if (result != Continue) return result;
                    if (tunnel.TunnelDepth > DecoderSettings.MaxTunnelDepth) return DecodeResult.TooDeep;
                    break;
                }
                case Layer.PppoeSession:
                {
                    var result = PppoeSession(ref p, ref tunnel, out next);
                    if (result != Continue) return result;
                    if (tunnel.TunnelDepth > DecoderSettings.MaxTunnelDepth) return DecodeResult.TooDeep;
                    break;
                }
                default:
                    return DecodeResult.NotIp;
            }
        }
    }

    private static bool OfEtherType(ushort etherType, out Layer next)
    {
        next = etherType switch
        {
            EtherIpv4 => Layer.Ipv4,
            EtherIpv6 => Layer.Ipv6,
            EtherMplsUnicast or EtherMplsMulticast => Layer.Mpls,
            EtherPppoeSession => Layer.PppoeSession,
            _ => Layer.Tcp,
        };
        return next != Layer.Tcp;
    }

    /// <summary>The layer an IP protocol number leads to; tunnels among them are recorded and bounded.</summary>
    private static bool OfIpProtocol(int protocol, ref Encapsulation tunnel, out Layer next, out DecodeResult stop)
    {
        stop = DecodeResult.Tcp;
        switch (protocol)
        {
            case ProtoTcp: next = Layer.Tcp; return true;
            case ProtoUdp: next = Layer.Udp; return true;
            case ProtoGre: next = Layer.Gre; return true;
            case ProtoMplsInIp: next = Layer.Mpls; return true; // RFC 4023
            case ProtoIpInIp:
            case ProtoIpv6InIp:
                // RFC 2003 / RFC 4213: no header of its own, so the protocol number is all there is to record.
                next = protocol == ProtoIpInIp ? Layer.Ipv4 : Layer.Ipv6;
                tunnel.Add(TunnelKind.IpInIp, 0, separatesTenants: false, hasId: false);
                if (tunnel.TunnelDepth > DecoderSettings.MaxTunnelDepth) { stop = DecodeResult.TooDeep; return false; }
                return true;
            default:
                next = Layer.Tcp;
                stop = DecodeResult.NotTcp;
                return false;
        }
    }

    /// <summary>
    /// GRE, RFC 2784 with RFC 2890's key and sequence number. Version 1 (PPTP's enhanced GRE, RFC 2637)
    /// and RFC 1701's routing are not decoded. The key separates tenants (it names the tunnel, the same
    /// in both directions). Protocol 0x88BE is ERSPAN type II when the sequence bit is set and type I
    /// (no ERSPAN header at all) when it is not; 0x22EB is ERSPAN type III.
    /// </summary>
    private static DecodeResult Gre(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        if (p.Length < 4) return DecodeResult.Malformed;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(p);
        ushort protocol = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        if ((flags & 0x0007) != 0 || (flags & 0x4000) != 0) return DecodeResult.UnknownEncapsulation;
        bool hasChecksum = (flags & 0x8000) != 0, hasKey = (flags & 0x2000) != 0, hasSequence = (flags & 0x1000) != 0;
        int length = 4 + (hasChecksum ? 4 : 0) + (hasKey ? 4 : 0) + (hasSequence ? 4 : 0);
        if (p.Length < length) return DecodeResult.Malformed;
        uint key = hasKey ? BinaryPrimitives.ReadUInt32BigEndian(p[(hasChecksum ? 8 : 4)..]) : 0;
        p = p[length..];
        switch (protocol)
        {
            case EtherErspanII when !hasSequence:
                tunnel.Add(TunnelKind.Erspan, 0, separatesTenants: false, hasId: false); // type I: the mirrored frame follows at once
                next = Layer.Ethernet;
                return Continue;
            case EtherErspanII:
                return ErspanII(ref p, ref tunnel, out next);
            case EtherErspanIII:
                return ErspanIII(ref p, ref tunnel, out next);
        }
        // Under ERSPAN, GRE is only its transport; otherwise it is the tunnel, named by its key.
        tunnel.Add(TunnelKind.Gre, key, separatesTenants: hasKey, hasId: hasKey);
        switch (protocol)
        {
            case EtherIpv4: next = Layer.Ipv4; return Continue;
            case EtherIpv6: next = Layer.Ipv6; return Continue;
            case EtherTransparentBridging: next = Layer.Ethernet; return Continue; // gretap
            case EtherMplsUnicast or EtherMplsMulticast: next = Layer.Mpls; return Continue;
            default: return DecodeResult.UnknownEncapsulation;
        }
    }

    /// <summary>ERSPAN type II (draft-foschiano-erspan-03 §4.1): 8 bytes, version 1, 10-bit session id, then the frame.</summary>
    private static DecodeResult ErspanII(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        if (p.Length < 8) return DecodeResult.Malformed;
        if ((p[0] >> 4) != 1) return DecodeResult.UnknownEncapsulation;
        tunnel.Add(TunnelKind.Erspan, BinaryPrimitives.ReadUInt16BigEndian(p[2..]) & 0x03FFu, separatesTenants: false);
        p = p[8..];
        return Continue;
    }

    /// <summary>
    /// ERSPAN type III (draft-foschiano-erspan-03 §4.2): 12 bytes, version 2, session id, timestamp,
    /// SGT, then flags with the frame type (0 Ethernet, 2 IP) and O, which adds an 8-byte
    /// platform-specific subheader.
    /// </summary>
    private static DecodeResult ErspanIII(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        if (p.Length < 12) return DecodeResult.Malformed;
        if ((p[0] >> 4) != 2) return DecodeResult.UnknownEncapsulation;
        int frameType = (p[10] >> 2) & 0x1F;
        int length = 12 + ((p[11] & 0x01) != 0 ? 8 : 0);
        if (p.Length < length) return DecodeResult.Malformed;
        tunnel.Add(TunnelKind.Erspan, BinaryPrimitives.ReadUInt16BigEndian(p[2..]) & 0x03FFu, separatesTenants: false);
        p = p[length..];
        switch (frameType)
        {
            case 0: next = Layer.Ethernet; return Continue;
            case 2: next = Layer.IpByVersion; return Continue;
            default: return DecodeResult.UnknownEncapsulation;
        }
    }

    /// <summary>VXLAN, RFC 7348 §5: 8 bytes, the I flag says the VNI is valid, then an Ethernet frame.</summary>
    private static DecodeResult Vxlan(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        if (p.Length < 8) return DecodeResult.Malformed;
        if ((p[0] & 0x08) == 0) return DecodeResult.UnknownEncapsulation;
        tunnel.Add(TunnelKind.Vxlan, BinaryPrimitives.ReadUInt32BigEndian(p[4..]) >> 8, separatesTenants: true);
        p = p[8..];
        return Continue;
    }

    /// <summary>
    /// GENEVE, RFC 8926 §3.4: version 0, options skipped by their length (in 4-byte words), protocol
    /// type 0x6558 for Ethernet (what cloud packet mirroring sends) or an IP ethertype.
    /// </summary>
    private static DecodeResult Geneve(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        if (p.Length < 8) return DecodeResult.Malformed;
        if ((p[0] >> 6) != 0) return DecodeResult.UnknownEncapsulation;
        int length = 8 + (p[0] & 0x3F) * 4;
        if (p.Length < length) return DecodeResult.Malformed;
        ushort protocol = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        tunnel.Add(TunnelKind.Geneve, BinaryPrimitives.ReadUInt32BigEndian(p[4..]) >> 8, separatesTenants: true);
        p = p[length..];
        switch (protocol)
        {
            case EtherTransparentBridging: next = Layer.Ethernet; return Continue;
            case EtherIpv4: next = Layer.Ipv4; return Continue;
            case EtherIpv6: next = Layer.Ipv6; return Continue;
            default: return DecodeResult.UnknownEncapsulation;
        }
    }

    /// <summary>
    /// MPLS, RFC 3032: label entries to the bottom of the stack (at most 8), then what the first nibble
    /// says: IPv4, IPv6, a pseudowire control word (0, RFC 4385) before an Ethernet frame, or an
    /// Ethernet pseudowire without one (RFC 4448). The labels are per hop and per direction, so they
    /// are recorded (each, top first) but do not separate connections; the stack is one tunnel layer.
    /// </summary>
    private static DecodeResult Mpls(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ethernet;
        for (int labels = 0; ; labels++)
        {
            if (labels == 8) return DecodeResult.TooDeep;
            if (p.Length < 4) return DecodeResult.Malformed;
            uint entry = BinaryPrimitives.ReadUInt32BigEndian(p);
            p = p[4..];
            tunnel.Add(TunnelKind.Mpls, entry >> 12, separatesTenants: false, sameLayer: labels > 0);
            if ((entry & 0x100) != 0) break;
        }
        if (p.IsEmpty) return DecodeResult.Malformed;
        switch (p[0] >> 4)
        {
            case 4: next = Layer.Ipv4; break;
            case 6: next = Layer.Ipv6; break;
            case 0:
                if (p.Length < 4) return DecodeResult.Malformed;
                p = p[4..];
                next = Layer.Ethernet;
                break;
            default: next = Layer.Ethernet; break;
        }
        return Continue;
    }

    /// <summary>
    /// A PPPoE session frame, RFC 2516 §4: version and type 1, code 0, session id, length; then the PPP
    /// protocol (RFC 1661; one byte when compressed, RFC 1661 §6.5): 0x21 IPv4, 0x57 IPv6.
    /// </summary>
    private static DecodeResult PppoeSession(ref ReadOnlySpan<byte> p, ref Encapsulation tunnel, out Layer next)
    {
        next = Layer.Ipv4;
        if (p.Length < 7) return DecodeResult.Malformed;
        if (p[0] != 0x11 || p[1] != 0) return DecodeResult.UnknownEncapsulation;
        tunnel.Add(TunnelKind.Pppoe, BinaryPrimitives.ReadUInt16BigEndian(p[2..]), separatesTenants: false);
        int length = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        p = p[6..Math.Min(6 + length, p.Length)];
        if (p.IsEmpty) return DecodeResult.Malformed;
        int pppProtocol;
        if ((p[0] & 1) != 0) { pppProtocol = p[0]; p = p[1..]; }
        else if (p.Length < 2) return DecodeResult.Malformed;
        else { pppProtocol = BinaryPrimitives.ReadUInt16BigEndian(p); p = p[2..]; }
        switch (pppProtocol)
        {
            case 0x21: next = Layer.Ipv4; return Continue;
            case 0x57: next = Layer.Ipv6; return Continue;
            default: return DecodeResult.NotIp; // LCP, IPCP and the like: control traffic
        }
    }

    /// <summary>RFC 9293 §3.1. <paramref name="segment"/> is left as it came (cleared) unless the header is whole.</summary>
    private static DecodeResult DecodeTcp(ReadOnlySpan<byte> t, UInt128 src, UInt128 dst, long ts, scoped in Encapsulation tunnel,
        ref TcpSegment segment)
    {
        if (t.Length < 20) return DecodeResult.Malformed;
        int dataOffset = (t[12] >> 4) * 4;
        if (dataOffset < 20 || dataOffset > t.Length) return DecodeResult.Malformed;
        var flags = (TcpFlags)(t[13] & 0x3F);
        segment = new TcpSegment(
            new IpEndpoint(src, BinaryPrimitives.ReadUInt16BigEndian(t)),
            new IpEndpoint(dst, BinaryPrimitives.ReadUInt16BigEndian(t[2..])),
            BinaryPrimitives.ReadUInt32BigEndian(t[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(t[8..]),
            flags, t[dataOffset..], ts, tunnel);
        return DecodeResult.Tcp;
    }
}
