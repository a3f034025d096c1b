namespace Sensor.CaptureGenerator;

/// <summary>
/// One TCP connection, produced one packet at a time: three-way handshake, the messages of
/// <see cref="Script"/> cut into segments of at most <see cref="MaxSegment"/> bytes with a pure ACK
/// from the receiver every two segments, then FIN both ways. The packet to write next is described
/// by the public fields; <see cref="Advance"/> moves to the following one. Nothing is buffered
/// beyond the current and the next message, so memory does not grow with the flow's size.
/// </summary>
internal abstract class Flow
{
    public const int MaxSegment = 1448; // MSS 1460 minus the 12 bytes of the timestamp option

    public const byte Fin = 0x01, Syn = 0x02, Psh = 0x08, Ack = 0x10;

    protected readonly Random Rng;
    protected readonly World W;
    public readonly long Id;

    // Endpoints
    public readonly uint ClientIp, ServerIp;
    public readonly ushort ClientPort, ServerPort;

    /// <summary>Who sends the first FIN; set by the script before it ends.</summary>
    protected bool ClientClosesFirst;

    // TCP state
    private uint _cNext, _sNext;
    private ushort _cIpId, _sIpId;
    private readonly uint _cTsBase, _sTsBase;
    private uint _cTsLast, _sTsLast;
    private readonly int _rttUs;
    private readonly long _start;
    private Phase _phase;
    private IEnumerator<Msg>? _script;
    private Msg? _cur, _next;
    private int _curOff, _unacked;
    private bool _pendingAck;

    // The packet to write now
    public long Time;          // microseconds since the Unix epoch
    public bool PFromClient;
    public byte PFlags;
    public uint PSeq, PAck;
    public ushort PWindow, PIpId;
    public uint PTsVal, PTsEcr;
    public Msg? PMsg;
    public int POff, PLen;

    private enum Phase { Syn, SynAck, HandshakeAck, Data, Fin1, Fin2, Fin3, Done }

    protected Flow(World world, long id, long start, uint clientIp, ushort clientPort, uint serverIp, ushort serverPort, Random rng)
    {
        W = world;
        Id = id;
        Rng = rng;
        ClientIp = clientIp;
        ClientPort = clientPort;
        ServerIp = serverIp;
        ServerPort = serverPort;
        _start = start;
        Time = start;
        // Mostly LAN round trips, some WAN ones.
        _rttUs = Rng.Next(10) < 6 ? Rng.Next(150, 1500) : Rng.Next(4000, 60000);
        _cNext = (uint)Rng.NextInt64(0, 1L << 32);
        _sNext = (uint)Rng.NextInt64(0, 1L << 32);
        _cIpId = (ushort)Rng.Next(65536);
        _sIpId = (ushort)Rng.Next(65536);
        _cTsBase = (uint)Rng.NextInt64(0, 1L << 32);
        _sTsBase = (uint)Rng.NextInt64(0, 1L << 32);
    }

    /// <summary>The application messages of the connection, in order.</summary>
    protected abstract IEnumerable<Msg> Script();

    protected Msg C(string ascii) => Msg.Text(true, ascii);
    protected Msg S(string ascii) => Msg.Text(false, ascii);

    protected static Msg Delayed(Msg m, int delayUs)
    {
        m.DelayUs = delayUs;
        return m;
    }

    /// <summary>Describes the next packet in the public fields; false when the connection is over.</summary>
    public bool Advance()
    {
        switch (_phase)
        {
            case Phase.Syn:
                Time = _start;
                Emit(true, Syn, _cNext++, 0, null, 0, 0);
                _phase = Phase.SynAck;
                return true;
            case Phase.SynAck:
                Time += _rttUs / 2 + Rng.Next(10, 120);
                Emit(false, Syn | Ack, _sNext++, _cNext, null, 0, 0);
                _phase = Phase.HandshakeAck;
                return true;
            case Phase.HandshakeAck:
                Time += _rttUs / 2 + Rng.Next(10, 120);
                Emit(true, Ack, _cNext, _sNext, null, 0, 0);
                _phase = Phase.Data;
                _script = Script().GetEnumerator();
                _next = Pull();
                return true;
            case Phase.Data:
                return AdvanceData();
            case Phase.Fin1:
                Time += _rttUs / 4 + Rng.Next(20, 800);
                EmitControl(ClientClosesFirst, Fin | Ack);
                _phase = Phase.Fin2;
                return true;
            case Phase.Fin2:
                Time += _rttUs / 2 + Rng.Next(20, 300);
                EmitControl(!ClientClosesFirst, Fin | Ack);
                _phase = Phase.Fin3;
                return true;
            case Phase.Fin3:
                Time += _rttUs / 2 + Rng.Next(10, 100);
                EmitControl(ClientClosesFirst, Ack);
                _phase = Phase.Done;
                return true;
            default:
                return false;
        }
    }

    private bool AdvanceData()
    {
        if (_pendingAck)
        {
            _pendingAck = false;
            Time += _rttUs / 2 + Rng.Next(5, 60);
            EmitControl(!_cur!.FromClient, Ack);
            return true;
        }
        if (_cur is null || _curOff >= _cur.Length)
        {
            _cur = _next;
            _next = _cur is null ? null : Pull();
            _curOff = 0;
            _unacked = 0;
            if (_cur is null)
            {
                _phase = Phase.Fin1;
                return Advance();
            }
            Time += _cur.DelayUs > 0 ? _cur.DelayUs
                : _cur.FromClient ? _rttUs / 2 + Rng.Next(40, 2500)
                : _rttUs / 2 + Rng.Next(20, 700);
        }
        else
        {
            Time += Rng.Next(4, 30); // back-to-back segments of one message
        }

        var m = _cur;
        int len = Math.Min(MaxSegment, m.Length - _curOff);
        bool last = _curOff + len == m.Length;
        if (m.FromClient) { Emit(true, (byte)(Ack | (last ? Psh : 0)), _cNext, _sNext, m, _curOff, len); _cNext += (uint)len; }
        else { Emit(false, (byte)(Ack | (last ? Psh : 0)), _sNext, _cNext, m, _curOff, len); _sNext += (uint)len; }
        _curOff += len;
        _unacked++;
        if (_unacked == 2)
        {
            _pendingAck = true;
            _unacked = 0;
        }
        else if (last && _unacked == 1)
        {
            // The odd last segment is acknowledged by the receiver's next packet if it speaks next
            // (reply or FIN), otherwise by a delayed pure ACK.
            bool receiverIsClient = !m.FromClient;
            bool piggyback = _next is not null ? _next.FromClient == receiverIsClient : ClientClosesFirst == receiverIsClient;
            _pendingAck = !piggyback;
            _unacked = 0;
        }
        return true;
    }

    private Msg? Pull()
    {
        while (_script!.MoveNext())
            if (_script.Current.Length > 0) return _script.Current;
        _script.Dispose();
        return null;
    }

    private void EmitControl(bool fromClient, byte flags)
    {
        if (fromClient)
        {
            Emit(true, flags, _cNext, _sNext, null, 0, 0);
            if ((flags & Fin) != 0) _cNext++;
        }
        else
        {
            Emit(false, flags, _sNext, _cNext, null, 0, 0);
            if ((flags & Fin) != 0) _sNext++;
        }
    }

    private void Emit(bool fromClient, byte flags, uint seq, uint ack, Msg? msg, int off, int len)
    {
        PFromClient = fromClient;
        PFlags = flags;
        PSeq = seq;
        PAck = (flags & Ack) != 0 ? ack : 0;
        PMsg = msg;
        POff = off;
        PLen = len;
        uint ms = (uint)((Time - _start) / 1000);
        if (fromClient)
        {
            PIpId = _cIpId++;
            PTsVal = _cTsLast = _cTsBase + ms;
            PTsEcr = (flags & Ack) != 0 ? _sTsLast : 0;
            PWindow = (flags & Syn) != 0 ? (ushort)64240 : (ushort)502;
        }
        else
        {
            PIpId = _sIpId++;
            PTsVal = _sTsLast = _sTsBase + ms;
            PTsEcr = _cTsLast;
            PWindow = (flags & Syn) != 0 ? (ushort)65160 : (ushort)509;
        }
    }
}
