using System.Buffers.Binary;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// Wraps real captured frames in the layers mirrored traffic arrives in, byte by byte after the
/// RFCs, for the decoder's unit tests. (The golden captures under pcaps/tunnels come from real
/// tunnel endpoints; these cover every header option and damage the tests need.)
/// </summary>
internal static class Encapsulate
{
    private static readonly byte[] MacA = [0x02, 0, 0, 0, 0, 0xA], MacB = [0x02, 0, 0, 0, 0, 0xB];

    public static byte[] Ethernet(ushort etherType, ReadOnlySpan<byte> payload) =>
        [.. MacB, .. MacA, (byte)(etherType >> 8), (byte)etherType, .. payload];

    /// <summary>The IP packet inside an Ethernet frame (no tags).</summary>
    public static byte[] IpOf(byte[] ethernetFrame) => ethernetFrame[14..];

    public static byte[] Vlan(ushort id, ushort innerType, ReadOnlySpan<byte> payload) =>
        [(byte)(id >> 8), (byte)id, (byte)(innerType >> 8), (byte)innerType, .. payload];

    public static byte[] Ipv4(byte protocol, ReadOnlySpan<byte> payload, byte lastOctet = 1, ushort id = 0, ushort flagsAndOffset = 0)
    {
        var h = new byte[20];
        h[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), (ushort)(20 + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(6), flagsAndOffset);
        h[8] = 64;
        h[9] = protocol;
        h[12] = 192; h[13] = 0; h[14] = 2; h[15] = lastOctet;
        h[16] = 198; h[17] = 51; h[18] = 100; h[19] = 1;
        return [.. h, .. payload];
    }

    public static byte[] Ipv6(byte nextHeader, ReadOnlySpan<byte> payload)
    {
        var h = new byte[40];
        h[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)payload.Length);
        h[6] = nextHeader;
        h[7] = 64;
        h[8] = 0x20; h[9] = 0x01; h[10] = 0x0d; h[11] = 0xb8; h[23] = 1;
        h[24] = 0x20; h[25] = 0x01; h[26] = 0x0d; h[27] = 0xb8; h[39] = 2;
        return [.. h, .. payload];
    }

    public static byte[] Udp(ushort dstPort, ReadOnlySpan<byte> payload, ushort srcPort = 49152)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(h, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)(8 + payload.Length));
        return [.. h, .. payload];
    }

    /// <summary>RFC 7348 §5.</summary>
    public static byte[] Vxlan(uint vni, ReadOnlySpan<byte> innerEthernet, byte flags = 0x08) =>
        [flags, 0, 0, 0, (byte)(vni >> 16), (byte)(vni >> 8), (byte)vni, 0, .. innerEthernet];

    /// <summary>RFC 8926 §3.4, with <paramref name="optionWords"/> 4-byte words of options.</summary>
    public static byte[] Geneve(uint vni, ushort protocol, ReadOnlySpan<byte> inner, int optionWords = 0)
    {
        var options = new byte[optionWords * 4];
        if (optionWords > 0)
        {
            // One option: class 0x0108 (AWS-style vendor class), type 1, length optionWords-1 words.
            options[0] = 0x01; options[1] = 0x08; options[2] = 0x01; options[3] = (byte)(optionWords - 1);
        }
        return [(byte)optionWords, 0, (byte)(protocol >> 8), (byte)protocol, (byte)(vni >> 16), (byte)(vni >> 8), (byte)vni, 0, .. options, .. inner];
    }

    /// <summary>RFC 2784 / RFC 2890.</summary>
    public static byte[] Gre(ushort protocol, ReadOnlySpan<byte> inner, uint? key = null, uint? sequence = null, bool checksum = false)
    {
        ushort flags = (ushort)((checksum ? 0x8000 : 0) | (key is null ? 0 : 0x2000) | (sequence is null ? 0 : 0x1000));
        var h = new List<byte> { (byte)(flags >> 8), (byte)flags, (byte)(protocol >> 8), (byte)protocol };
        if (checksum) h.AddRange([0, 0, 0, 0]);
        if (key is { } k) h.AddRange([(byte)(k >> 24), (byte)(k >> 16), (byte)(k >> 8), (byte)k]);
        if (sequence is { } s) h.AddRange([(byte)(s >> 24), (byte)(s >> 16), (byte)(s >> 8), (byte)s]);
        return [.. h, .. inner];
    }

    /// <summary>ERSPAN type II header (draft-foschiano-erspan §4.1).</summary>
    public static byte[] ErspanII(ushort session, ReadOnlySpan<byte> innerEthernet) =>
        [0x10, 0x00, (byte)(session >> 8 & 0x03), (byte)session, 0, 0, 0, 7, .. innerEthernet];

    /// <summary>ERSPAN type III header (draft-foschiano-erspan §4.2), optionally with the 8-byte platform subheader.</summary>
    public static byte[] ErspanIII(ushort session, ReadOnlySpan<byte> inner, bool platformSubheader = false, int frameType = 0)
    {
        byte[] h = [0x20, 0x00, (byte)(session >> 8 & 0x03), (byte)session, 0, 0, 0, 1, 0, 0,
            (byte)(frameType << 2), (byte)(platformSubheader ? 1 : 0)];
        return platformSubheader ? [.. h, 0, 0, 0, 0, 0, 0, 0, 0, .. inner] : [.. h, .. inner];
    }

    /// <summary>RFC 3032 label stack entries, the last with bottom-of-stack set.</summary>
    public static byte[] Mpls(uint[] labels, ReadOnlySpan<byte> inner)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < labels.Length; i++)
        {
            uint entry = (labels[i] << 12) | (i == labels.Length - 1 ? 0x100u : 0) | 64;
            bytes.AddRange([(byte)(entry >> 24), (byte)(entry >> 16), (byte)(entry >> 8), (byte)entry]);
        }
        return [.. bytes, .. inner];
    }

    /// <summary>RFC 2516 §4 session frame with a PPP protocol field (RFC 1661).</summary>
    public static byte[] PppoeSession(ushort session, ushort pppProtocol, ReadOnlySpan<byte> ip)
    {
        int length = ip.Length + 2;
        return [0x11, 0x00, (byte)(session >> 8), (byte)session, (byte)(length >> 8), (byte)length,
            (byte)(pppProtocol >> 8), (byte)pppProtocol, .. ip];
    }
}
