using Sensor.Core.Events;
using Sensor.Core.Flows;

namespace Sensor.Core.Mail;

/// <summary>What the sensor learned about one mail server across all its connections.</summary>
public sealed class ServerPosture
{
    public ServerPosture(IpEndpoint server, AppProtocol protocol)
    {
        Server = server;
        Protocol = protocol;
    }

    public IpEndpoint Server { get; }
    public AppProtocol Protocol { get; }
    /// <summary>STARTTLS/STLS advertised in a capability list (null: no capability list seen).</summary>
    public bool? OffersStartTls { get; set; }
    /// <summary>IMAP LOGINDISABLED advertised (RFC 3501 §6.2.3): cleartext LOGIN should be refused.</summary>
    public bool LoginDisabled { get; set; }
    /// <summary>SMTP AUTH advertised in a cleartext EHLO reply: passwords may be sent before STARTTLS.</summary>
    public bool AuthBeforeStartTls { get; set; }
    public long CleartextLogins { get; set; }
    public long StartTlsUpgrades { get; set; }
}

/// <summary>Server postures keyed by endpoint; bounded, the overflow counted rather than stored.</summary>
public sealed class ServerPostureTable
{
    private readonly Dictionary<(IpEndpoint, AppProtocol), ServerPosture> _servers = new();
    private readonly int _max;

    public ServerPostureTable(int maxServers = 65_536) => _max = maxServers;

    public long Overflow { get; private set; }

    public IEnumerable<ServerPosture> All => _servers.Values;

    public ServerPosture? Get(IpEndpoint server, AppProtocol protocol)
    {
        if (_servers.TryGetValue((server, protocol), out var p)) return p;
        if (_servers.Count >= _max)
        {
            Overflow++;
            return null;
        }
        p = new ServerPosture(server, protocol);
        _servers.Add((server, protocol), p);
        return p;
    }
}
