using System.Buffers.Binary;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// Cuts the IP packet of an Ethernet frame into fragments as a router or the sending host would
/// (RFC 791 §3.2, RFC 8200 §4.5), for tests that compare a capture with its fragmented copy.
/// </summary>
internal static class Fragmenter
{
    /// <summary>
    /// The frame's IPv4 or IPv6 packet in pieces of <paramref name="pieceBytes"/> payload bytes (a
    /// multiple of 8), or the frame itself when it is neither or too small to cut.
    /// </summary>
    public static List<byte[]> Fragment(byte[] frame, int pieceBytes, ushort id, int firstPieceBytes = 0)
    {
        if (frame.Length < 14) return [frame];
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));
        var ip = frame.AsSpan(14);
        if (etherType == 0x0800 && ip.Length >= 20)
        {
            int hl = (ip[0] & 0x0F) * 4;
            int total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(ip[2..]), ip.Length);
            var payload = ip[hl..total];
            if (payload.Length <= pieceBytes) return [frame];
            var list = new List<byte[]>();
            for (int off = 0, len; off < payload.Length; off += len)
            {
                len = Math.Min(off == 0 && firstPieceBytes > 0 ? firstPieceBytes : pieceBytes, payload.Length - off);
                bool more = off + len < payload.Length;
                var f = new byte[14 + hl + len];
                frame.AsSpan(0, 14 + hl).CopyTo(f);
                payload.Slice(off, len).CopyTo(f.AsSpan(14 + hl));
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 2), (ushort)(hl + len));
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 4), id);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 6), (ushort)((more ? 0x2000 : 0) | (off / 8)));
                list.Add(f);
            }
            return list;
        }
        if (etherType == 0x86DD && ip.Length >= 40)
        {
            int total = Math.Min(40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]), ip.Length);
            var payload = ip[40..total];
            if (payload.Length <= pieceBytes) return [frame];
            byte next = ip[6];
            var list = new List<byte[]>();
            for (int off = 0, len; off < payload.Length; off += len)
            {
                len = Math.Min(off == 0 && firstPieceBytes > 0 ? firstPieceBytes : pieceBytes, payload.Length - off);
                bool more = off + len < payload.Length;
                var f = new byte[14 + 40 + 8 + len];
                frame.AsSpan(0, 14 + 40).CopyTo(f);
                f[14 + 6] = 44;
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 4), (ushort)(8 + len));
                f[54] = next;
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(56), (ushort)(off | (more ? 1 : 0)));
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(58), id);
                payload.Slice(off, len).CopyTo(f.AsSpan(62));
                list.Add(f);
            }
            return list;
        }
        return [frame];
    }

    /// <summary>A classic pcap file of Ethernet frames.</summary>
    public static void WritePcap(string path, IEnumerable<(byte[] Frame, long TimestampNs)> frames)
    {
        using var file = File.Create(path);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xa1b23c4d); // nanosecond timestamps
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], 262144);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        file.Write(h);
        Span<byte> r = stackalloc byte[16];
        foreach (var (frame, ts) in frames)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)(ts / 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[4..], (uint)(ts % 1_000_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(r[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)frame.Length);
            file.Write(r);
            file.Write(frame);
        }
    }
}
