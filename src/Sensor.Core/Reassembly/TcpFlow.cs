using Sensor.Core.Flows;

namespace Sensor.Core.Reassembly;

/// <summary>
/// A tracked TCP connection. Which side is the client comes from the handshake when it was seen,
/// otherwise from the ports, and the protocol detector may correct it from content.
/// </summary>
public sealed class TcpFlow
{
    internal TcpFlow(FlowKey key, bool clientIsLow, bool roleFromHandshake, long startNs, in Encapsulation tunnel = default) =>
        Reset(key, clientIsLow, roleFromHandshake, startNs, tunnel);

    /// <summary>
    /// Makes a closed flow object a new connection. The reassembler does this with the flow it evicts
    /// to make room: under a SYN flood a million evictions then create no garbage for the collector.
    /// </summary>
    internal TcpFlow Reset(FlowKey key, bool clientIsLow, bool roleFromHandshake, long startNs, in Encapsulation tunnel = default)
    {
        Key = key;
        Tunnel = tunnel;
        ClientIsLow = clientIsLow;
        RolesFromHandshake = roleFromHandshake;
        StartNs = startNs;
        LastNs = startNs;
        LastPacket = 0;
        LowStream = default;
        HighStream = default;
        Consumer = null;
        PayloadIgnored = false;
        SawPayload = false;
        Prev = Next = null;
        List = null;
        _flowId = null;
        return this;
    }

    public FlowKey Key { get; private set; }
    /// <summary>How its first packet arrived (tags and tunnels); empty for plain traffic.</summary>
    public Encapsulation Tunnel { get; private set; }
    public long StartNs { get; private set; }
    public long LastNs { get; internal set; }
    /// <summary>Ordinal of the packet that last touched this connection (<see cref="InputPosition.Packet"/>).</summary>
    internal long LastPacket { get; set; }

    /// <summary>True when a SYN told us who opened the connection; content may not override it then.</summary>
    public bool RolesFromHandshake { get; private set; }

    internal bool ClientIsLow;
    public IpEndpoint Client => ClientIsLow ? Key.Low : Key.High;
    public IpEndpoint Server => ClientIsLow ? Key.High : Key.Low;

    /// <summary>Swap client and server: the detector saw the "client" send a server greeting.</summary>
    public void SwapRoles() => ClientIsLow = !ClientIsLow;

    internal HalfStream LowStream;
    internal HalfStream HighStream;
    internal IStreamConsumer? Consumer;
    /// <summary>Payload is no longer wanted (not mail, or TLS): only the end of the connection is watched.</summary>
    internal bool PayloadIgnored;
    internal bool SawPayload;

    // Intrusive LRU links: O(1) touch and expiry without allocation.
    internal TcpFlow? Prev;
    internal TcpFlow? Next;
    internal FlowLru? List;

    internal StreamDirection DirectionOf(bool fromLow) =>
        fromLow == ClientIsLow ? StreamDirection.ClientToServer : StreamDirection.ServerToClient;

    private string? _flowId;

    /// <summary>A stable identifier for events: the same capture always yields the same ids.</summary>
    /// <remarks>
    /// Made once per connection (its inputs change only in <see cref="Reset"/>): every event of the
    /// connection, capability notes included, asked for it and hashed and formatted it again.
    /// </remarks>
    public string FlowId => _flowId ??= ComputeFlowId();

    private string ComputeFlowId()
    {
        // FNV-1a over the endpoints and the first packet time: deterministic across runs.
        ulong h = 14695981039346656037UL;
        void Mix(ulong v)
        {
            for (int i = 0; i < 8; i++) { h ^= (byte)(v >> (i * 8)); h *= 1099511628211UL; }
        }
        Mix((ulong)(Key.Low.Address >> 64)); Mix((ulong)Key.Low.Address); Mix(Key.Low.Port);
        Mix((ulong)(Key.High.Address >> 64)); Mix((ulong)Key.High.Address); Mix(Key.High.Port);
        Mix((ulong)StartNs);
        if (Key.Realm != 0) Mix(Key.Realm); // plain traffic keeps the ids it always had
        return h.ToString("x16");
    }
}
