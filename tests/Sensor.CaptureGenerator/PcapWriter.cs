using System.Buffers.Binary;

namespace Sensor.CaptureGenerator;

/// <summary>
/// Writes a classic pcap file (magic a1b2c3d4, microsecond timestamps, link type 1 Ethernet) one
/// packet at a time through a <see cref="BufferedStream"/>: Ethernet II, IPv4 (DF, header checksum)
/// and TCP with the timestamp option (SYNs also carry MSS, SACK-permitted and window scale) and a
/// correct checksum over the pseudo-header.
/// </summary>
internal sealed class PcapWriter : IDisposable
{
    public const int SnapLength = 262144;
    private const int EthLen = 14, IpLen = 20;

    private readonly FileStream _file;
    private readonly BufferedStream _out;
    private bool _disposed;
    private readonly byte[] _buf = new byte[16 + EthLen + IpLen + 40 + Flow.MaxSegment];

    public long Packets { get; private set; }
    /// <summary>Sum of the frames' lengths (captured = original length).</summary>
    public long Bytes { get; private set; }
    public long FileBytes { get; private set; }

    public PcapWriter(string path)
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        _out = new BufferedStream(_file, 1 << 20);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);   // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1); // LINKTYPE_ETHERNET
        _out.Write(h);
        FileBytes = 24;
    }

    public void Write(Flow f)
    {
        var b = _buf.AsSpan();
        bool syn = (f.PFlags & Flow.Syn) != 0;
        int tcpLen = syn ? 40 : 32;
        int frameLen = EthLen + IpLen + tcpLen + f.PLen;

        // pcap record header
        long sec = Math.DivRem(f.Time, 1_000_000, out long usec);
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)sec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)usec);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], (uint)frameLen);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], (uint)frameLen);

        uint src = f.PFromClient ? f.ClientIp : f.ServerIp;
        uint dst = f.PFromClient ? f.ServerIp : f.ClientIp;
        ushort sport = f.PFromClient ? f.ClientPort : f.ServerPort;
        ushort dport = f.PFromClient ? f.ServerPort : f.ClientPort;

        // Ethernet: locally administered MACs 02:00:<IPv4>
        var eth = b.Slice(16, EthLen);
        WriteMac(eth, dst);
        WriteMac(eth[6..], src);
        BinaryPrimitives.WriteUInt16BigEndian(eth[12..], 0x0800);

        // IPv4
        var ip = b.Slice(16 + EthLen, IpLen);
        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(IpLen + tcpLen + f.PLen));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], f.PIpId);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
        ip[8] = f.PFromClient ? (byte)63 : (byte)64;
        ip[9] = 6;
        ip[10] = 0;
        ip[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dst);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~Fold(Sum(ip, 0)));

        // TCP
        var tcp = b.Slice(16 + EthLen + IpLen, tcpLen + f.PLen);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], f.PSeq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], f.PAck);
        tcp[12] = (byte)((tcpLen / 4) << 4);
        tcp[13] = f.PFlags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], f.PWindow);
        tcp[16] = 0; tcp[17] = 0; // checksum
        tcp[18] = 0; tcp[19] = 0; // urgent pointer
        var opt = tcp[20..tcpLen];
        if (syn)
        {
            // MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux order)
            opt[0] = 2; opt[1] = 4; BinaryPrimitives.WriteUInt16BigEndian(opt[2..], 1460);
            opt[4] = 4; opt[5] = 2;
            opt[6] = 8; opt[7] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(opt[8..], f.PTsVal);
            BinaryPrimitives.WriteUInt32BigEndian(opt[12..], f.PTsEcr);
            opt[16] = 1; opt[17] = 3; opt[18] = 3; opt[19] = 7;
        }
        else
        {
            opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(opt[4..], f.PTsVal);
            BinaryPrimitives.WriteUInt32BigEndian(opt[8..], f.PTsEcr);
        }
        if (f.PLen > 0) f.PMsg!.CopyTo(f.POff, tcp.Slice(tcpLen, f.PLen));
        ulong pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6u + (uint)tcp.Length;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~Fold(Sum(tcp, pseudo)));

        _out.Write(b[..(16 + frameLen)]);
        Packets++;
        Bytes += frameLen;
        FileBytes += 16 + frameLen;
    }

    private static void WriteMac(Span<byte> mac, uint ip)
    {
        mac[0] = 0x02;
        mac[1] = 0x00;
        BinaryPrimitives.WriteUInt32BigEndian(mac[2..], ip);
    }

    /// <summary>One's-complement sum of big-endian 16-bit words (odd tail padded with zero), not yet folded.</summary>
    private static ulong Sum(ReadOnlySpan<byte> data, ulong sum)
    {
        int i = 0;
        for (; i + 4 <= data.Length; i += 4) sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        if (i + 2 <= data.Length) { sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]); i += 2; }
        if (i < data.Length) sum += (ulong)data[i] << 8;
        return sum;
    }

    private static ushort Fold(ulong sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _out.Flush();
        _out.Dispose();
        _file.Dispose();
    }
}
