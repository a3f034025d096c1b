using Sensor.Core.Events;
using Sensor.Core.Flows;

namespace Sensor.Core.Mail;

/// <summary>
/// Server postures keyed by endpoint, protocol and tenant network (<see cref="Encapsulation.Realm"/>:
/// two VXLAN tenants may both run 10.0.0.5:143, and they are two servers): the server inventory. Bounded: at the cap the
/// server seen least recently makes room (O(1), a list in order of last event), and each eviction
/// is counted and handed back so its last report is not lost. Servers arrive only with mail events
/// (capability lists, logins, STARTTLS), never with bare packets, so a port scan cannot churn it.
/// </summary>
public sealed class ServerPostureTable
{
    /// <summary>The default cap: far beyond the mail servers of any site, and a bound on metric series (one per server).</summary>
    public const int DefaultMaxServers = 10_000;

    private readonly Dictionary<(IpEndpoint, AppProtocol, ulong Realm), LinkedListNode<ServerPosture>> _servers = new();
    private readonly LinkedList<ServerPosture> _byLastEvent = new();
    private readonly int _max;

    public ServerPostureTable(int maxServers = DefaultMaxServers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxServers, 1);
        _max = maxServers;
    }

    public int Count => _servers.Count;
    public int MaxServers => _max;

    /// <summary>Servers forgotten at the cap to make room for another.</summary>
    public long Evicted { get; private set; }

    public IEnumerable<ServerPosture> All => _byLastEvent;

    /// <summary>Every server in a fixed order (protocol, tenant, address, port), for reports that must not depend on arrival.</summary>
    public IEnumerable<ServerPosture> Ordered =>
        _byLastEvent.OrderBy(s => s.Protocol).ThenBy(s => s.Tunnel.Realm).ThenBy(s => s.Server.Address).ThenBy(s => s.Server.Port);

    /// <summary>The posture of a server of plain traffic (no tenant network).</summary>
    public ServerPosture Get(IpEndpoint server, AppProtocol protocol, out ServerPosture? evicted) =>
        Get(server, protocol, default, out evicted);

    /// <summary>
    /// The server's posture in the tenant network <paramref name="tunnel"/> puts it in, made most recent;
    /// created when new (keeping <paramref name="tunnel"/> for its reports), evicting the least recent at the cap.
    /// </summary>
    public ServerPosture Get(IpEndpoint server, AppProtocol protocol, in Encapsulation tunnel, out ServerPosture? evicted)
    {
        evicted = null;
        if (_servers.TryGetValue((server, protocol, tunnel.Realm), out var node))
        {
            _byLastEvent.Remove(node);
            _byLastEvent.AddLast(node);
            return node.Value;
        }
        if (_servers.Count >= _max)
        {
            var oldest = _byLastEvent.First!;
            _byLastEvent.RemoveFirst();
            _servers.Remove((oldest.Value.Server, oldest.Value.Protocol, oldest.Value.Tunnel.Realm));
            evicted = oldest.Value;
            Evicted++;
        }
        node = _byLastEvent.AddLast(new ServerPosture(server, protocol) { Tunnel = tunnel });
        _servers.Add((server, protocol, tunnel.Realm), node);
        return node.Value;
    }

    /// <summary>A look-up that changes nothing (tests, reports).</summary>
    public ServerPosture? Find(IpEndpoint server, AppProtocol protocol, ulong realm = 0) =>
        _servers.TryGetValue((server, protocol, realm), out var node) ? node.Value : null;

    /// <summary>One <see cref="ServerReport"/> per server, in <see cref="Ordered"/> order, stamped <paramref name="nowNs"/>.</summary>
    public void Report(IEventSink sink, long nowNs)
    {
        foreach (var s in Ordered.ToList()) sink.Emit(s.ToReport(nowNs, evicted: false));
    }
}
