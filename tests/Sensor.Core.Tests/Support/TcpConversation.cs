namespace Sensor.Core.Tests.Support;

/// <summary>
/// Drives one TCP connection into a <see cref="TcpReassembler"/>: tracks both sides' sequence numbers
/// and acknowledges what the peer sent so far, as a real stack would.
/// </summary>
public sealed class TcpConversation
{
    private readonly TcpReassembler _reassembler;
    private readonly PacketClock _clock;
    private readonly uint _clientIsn;
    private readonly uint _serverIsn;

    public TcpConversation(TcpReassembler reassembler, PacketClock clock, IpEndpoint client, IpEndpoint server,
        uint clientIsn = 1_000, uint serverIsn = 5_000_000)
    {
        _reassembler = reassembler;
        _clock = clock;
        Client = client;
        Server = server;
        _clientIsn = clientIsn;
        _serverIsn = serverIsn;
        ClientNext = clientIsn;
        ServerNext = serverIsn;
    }

    public IpEndpoint Client { get; }
    public IpEndpoint Server { get; }
    public uint ClientNext { get; private set; }
    public uint ServerNext { get; private set; }

    /// <summary>SYN, SYN-ACK, ACK: the reassembler learns the roles and both initial sequence numbers.</summary>
    public TcpConversation Handshake()
    {
        Send(Client, Server, _clientIsn, 0, TcpFlags.Syn, default);
        Send(Server, Client, _serverIsn, _clientIsn + 1, TcpFlags.Syn | TcpFlags.Ack, default);
        Send(Client, Server, _clientIsn + 1, _serverIsn + 1, TcpFlags.Ack, default);
        ClientNext = _clientIsn + 1;
        ServerNext = _serverIsn + 1;
        return this;
    }

    public void ClientSends(string text) => ClientSends(Encoding.UTF8.GetBytes(text));
    public void ServerSends(string text) => ServerSends(Encoding.UTF8.GetBytes(text));

    public void ClientSends(ReadOnlySpan<byte> data)
    {
        Send(Client, Server, ClientNext, ServerNext, TcpFlags.Ack | TcpFlags.Psh, data);
        ClientNext += (uint)data.Length;
    }

    public void ServerSends(ReadOnlySpan<byte> data)
    {
        Send(Server, Client, ServerNext, ClientNext, TcpFlags.Ack | TcpFlags.Psh, data);
        ServerNext += (uint)data.Length;
    }

    /// <summary>
    /// The client sends <paramref name="text"/> but the capture never sees the segment: the client's
    /// sequence number moves past it and nothing is delivered. The server's next segment acknowledges
    /// the lost bytes, as a real stack would, which tells the reassembler they passed the capture point.
    /// </summary>
    public void ClientLoses(string text) => ClientNext += (uint)Encoding.UTF8.GetByteCount(text);

    /// <summary>The server's segment with <paramref name="text"/> is never captured (see <see cref="ClientLoses"/>).</summary>
    public void ServerLoses(string text) => ServerNext += (uint)Encoding.UTF8.GetByteCount(text);

    /// <summary>The client's bytes as two segments, cut at <paramref name="at"/>.</summary>
    public void ClientSendsSplit(byte[] data, int at)
    {
        ClientSends(data.AsSpan(0, at));
        ClientSends(data.AsSpan(at));
    }

    public void ServerSendsSplit(byte[] data, int at)
    {
        ServerSends(data.AsSpan(0, at));
        ServerSends(data.AsSpan(at));
    }

    /// <summary>Both sides send FIN: the reassembler closes the connection.</summary>
    public void FinBoth()
    {
        Send(Client, Server, ClientNext, ServerNext, TcpFlags.Fin | TcpFlags.Ack, default);
        Send(Server, Client, ServerNext, ClientNext + 1, TcpFlags.Fin | TcpFlags.Ack, default);
    }

    /// <summary>The server closes first (FIN), without answering what is pending; the client's FIN follows.</summary>
    public void ServerCloses()
    {
        Send(Server, Client, ServerNext, ClientNext, TcpFlags.Fin | TcpFlags.Ack, default);
        Send(Client, Server, ClientNext, ServerNext + 1, TcpFlags.Fin | TcpFlags.Ack, default);
    }

    public void ClientResets() => Send(Client, Server, ClientNext, ServerNext, TcpFlags.Rst | TcpFlags.Ack, default);

    private void Send(IpEndpoint from, IpEndpoint to, uint seq, uint ack, TcpFlags flags, ReadOnlySpan<byte> payload) =>
        _reassembler.OnSegment(new TcpSegment(from, to, seq, ack, flags, payload, _clock.Tick()));
}
