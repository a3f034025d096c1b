using System.Buffers.Binary;

namespace Sensor.Benchmarks.Support;

/// <summary>
/// Builds the Ethernet/IPv4/TCP frames of one client-server connection (TCP timestamp option,
/// correct IPv4 and TCP checksums, segments of at most 1448 bytes, the receiver acknowledging every
/// second segment) and records, per frame, its direction and its sequence and acknowledgment numbers
/// relative to a mark, so that a recorded stretch of the conversation can be replayed again and
/// again further along the same connection (<see cref="Replay"/>).
/// </summary>
public sealed class TcpConversation
{
    public const int Mss = 1448;
    private const int EthLen = 14, IpLen = 20, TcpLen = 32; // TCP header with NOP NOP TS option

    private readonly uint _clientIp = 0x0A010001, _serverIp = 0x0A020001; // 10.1.0.1 -> 10.2.0.1
    private readonly ushort _clientPort = 50_000, _serverPort;
    private uint _clientSeq = 0x10000000, _serverSeq = 0xF0000000; // the server's wraps around 2^32 soon
    private long _timeNs = 1_735_812_000_000_000_000; // 2025-01-02T10:00:00Z
    private ushort _ipId;
    private readonly List<RecordedFrame> _frames = new();
    private uint _markClient, _markServer;
    private long _markTime;

    public TcpConversation(ushort serverPort) => _serverPort = serverPort;

    public void Handshake()
    {
        Emit(fromClient: true, TcpSyn, default);
        _clientSeq++;
        Emit(fromClient: false, TcpSyn | TcpAck, default);
        _serverSeq++;
        Emit(fromClient: true, TcpAck, default);
    }

    /// <summary>Client sends <paramref name="text"/>; the server's acknowledgment rides on its reply.</summary>
    public void Client(ReadOnlySpan<byte> text) => Send(true, text);

    /// <summary>Server sends <paramref name="text"/>; the client acknowledges every second segment and the last.</summary>
    public void Server(ReadOnlySpan<byte> text) => Send(false, text);

    /// <summary>Starts recording: frames emitted from here on are the replayable stretch.</summary>
    public void Mark()
    {
        _frames.Clear();
        _markClient = _clientSeq;
        _markServer = _serverSeq;
        _markTime = _timeNs;
    }

    /// <summary>Every frame emitted since <see cref="Mark"/>, and how far the stretch moves each direction.</summary>
    public Replay Recorded() => new(_frames.ToArray(), _clientSeq - _markClient, _serverSeq - _markServer, _timeNs - _markTime + 1000);

    /// <summary>All frames emitted so far (or since the last <see cref="Mark"/>), in order.</summary>
    public IReadOnlyList<RecordedFrame> Frames => _frames;

    private void Send(bool fromClient, ReadOnlySpan<byte> text)
    {
        int segments = 0;
        while (!text.IsEmpty)
        {
            int n = Math.Min(Mss, text.Length);
            Emit(fromClient, TcpAck | TcpPsh, text[..n]);
            if (fromClient) _clientSeq += (uint)n; else _serverSeq += (uint)n;
            text = text[n..];
            segments++;
            // The receiver's pure ACK every two segments, and for a last odd one when the sender is
            // the server (the client's next command acknowledges otherwise, as does the server's reply).
            if (segments % 2 == 0 || (text.IsEmpty && !fromClient))
                Emit(!fromClient, TcpAck, default);
        }
    }

    private const byte TcpSyn = 0x02, TcpPsh = 0x08, TcpAck = 0x10;

    private void Emit(bool fromClient, byte flags, ReadOnlySpan<byte> payload)
    {
        _timeNs += 50_000; // 50 µs between packets
        var f = new byte[EthLen + IpLen + TcpLen + payload.Length];
        uint src = fromClient ? _clientIp : _serverIp, dst = fromClient ? _serverIp : _clientIp;
        // Ethernet: locally administered MACs 02:00:<IPv4>
        f[0] = 2; BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(2), dst);
        f[6] = 2; BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(8), src);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        var ip = f.AsSpan(EthLen, IpLen);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(IpLen + TcpLen + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], _ipId++);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
        ip[8] = 64;
        ip[9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dst);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~Fold(Sum(ip, 0)));
        var tcp = f.AsSpan(EthLen + IpLen);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, fromClient ? _clientPort : _serverPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromClient ? _serverPort : _clientPort);
        uint seq = fromClient ? _clientSeq : _serverSeq;
        uint ack = (flags & TcpAck) != 0 ? (fromClient ? _serverSeq : _clientSeq) : 0;
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = (TcpLen / 4) << 4;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 64_240);
        tcp[20] = 1; tcp[21] = 1; tcp[22] = 8; tcp[23] = 10; // NOP NOP TS(10)
        BinaryPrimitives.WriteUInt32BigEndian(tcp[24..], (uint)(_timeNs / 1_000_000));
        BinaryPrimitives.WriteUInt32BigEndian(tcp[28..], (uint)(_timeNs / 1_000_000) - 1);
        payload.CopyTo(tcp[TcpLen..]);
        // Pseudo-header: addresses, protocol, TCP length (RFC 9293 §3.1)
        long sum = Sum(ip.Slice(12, 8), 0) + 6 + tcp.Length;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~Fold(Sum(tcp, sum)));

        _frames.Add(new RecordedFrame(f, fromClient, seq - (fromClient ? _markClient : _markServer),
            ack - (fromClient ? _markServer : _markClient), _timeNs - _markTime, (flags & TcpAck) != 0));
    }

    private static long Sum(ReadOnlySpan<byte> b, long sum)
    {
        int i = 0;
        for (; i + 1 < b.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(b[i..]);
        if (i < b.Length) sum += b[i] << 8;
        return sum;
    }

    internal static ushort Fold(long sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    public readonly record struct RecordedFrame(byte[] Data, bool FromClient, uint SeqFromMark, uint AckFromMark, long TimeFromMark, bool HasAck);

    /// <summary>
    /// A recorded stretch of a connection that can be played again and again: each round rewrites
    /// the frames' sequence and acknowledgment numbers in place (adjusting the TCP checksum
    /// incrementally, RFC 1624) so that round k continues exactly where round k-1 ended.
    /// </summary>
    public sealed class Replay
    {
        private const int SeqAt = EthLen + IpLen + 4, AckAt = EthLen + IpLen + 8, SumAt = EthLen + IpLen + 16;
        private readonly RecordedFrame[] _frames;
        private readonly uint _clientAdvance, _serverAdvance;
        private readonly long _duration;
        private uint _clientBase, _serverBase;
        private long _timeBase;
        private int _round;

        internal Replay(RecordedFrame[] frames, uint clientAdvance, uint serverAdvance, long duration)
        {
            _frames = frames;
            _clientAdvance = clientAdvance;
            _serverAdvance = serverAdvance;
            _duration = duration;
        }

        public int FrameCount => _frames.Length;
        public long PayloadBytes => _clientAdvance + (long)_serverAdvance;

        /// <summary>Where the recorded stretch started (sequence numbers and time at the mark).</summary>
        internal void Start(uint clientSeq, uint serverSeq, long timeNs)
        {
            _clientBase = clientSeq;
            _serverBase = serverSeq;
            _timeBase = timeNs;
            _round = 0;
        }

        /// <summary>Feeds one round of frames (with their packet times) to <paramref name="sink"/> and moves on.</summary>
        public void PlayRound<TSink>(TSink sink) where TSink : IFrameSink
        {
            uint cBase = _clientBase, sBase = _serverBase;
            foreach (var f in _frames)
            {
                var data = f.Data;
                if (_round > 0) // round 0 plays the frames as built
                {
                    uint seq = (f.FromClient ? cBase : sBase) + f.SeqFromMark;
                    uint ack = f.HasAck ? (f.FromClient ? sBase : cBase) + f.AckFromMark : 0;
                    Rewrite(data, SeqAt, seq);
                    Rewrite(data, AckAt, ack);
                }
                sink.OnFrame(data, _timeBase + f.TimeFromMark);
            }
            _clientBase += _clientAdvance;
            _serverBase += _serverAdvance;
            _timeBase += _duration;
            _round++;
        }

        private static void Rewrite(byte[] data, int at, uint value)
        {
            var span = data.AsSpan();
            uint old = BinaryPrimitives.ReadUInt32BigEndian(span[at..]);
            if (old == value) return;
            BinaryPrimitives.WriteUInt32BigEndian(span[at..], value);
            // HC' = ~(~HC + ~m + m') per 16-bit word (RFC 1624 eqn. 3)
            long sum = (ushort)~BinaryPrimitives.ReadUInt16BigEndian(span[SumAt..]);
            sum += (ushort)~(old >> 16) + (ushort)~old + (value >> 16) + (value & 0xFFFF);
            BinaryPrimitives.WriteUInt16BigEndian(span[SumAt..], (ushort)~Fold(sum));
        }
    }

    /// <summary>Where replayed frames go (a struct implementing it keeps the call direct).</summary>
    public interface IFrameSink
    {
        void OnFrame(byte[] frame, long timestampNs);
    }

    /// <summary>Sequence numbers and time at the current point: give them to a fresh <see cref="Replay"/>.</summary>
    public void StartReplay(Replay replay) => replay.Start(_markClient, _markServer, _markTime);
}
