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
    /// <summary>How its first connection arrived; its <see cref="Encapsulation.Realm"/> is part of the server's key.</summary>
    public Encapsulation Tunnel { get; init; }
    /// <summary>STARTTLS/STLS advertised in a capability list (null: no capability list seen).</summary>
    public bool? OffersStartTls { get; set; }
    /// <summary>IMAP LOGINDISABLED advertised (RFC 3501 §6.2.3): cleartext LOGIN should be refused.</summary>
    public bool LoginDisabled { get; set; }
    /// <summary>SMTP AUTH advertised in a cleartext EHLO reply: passwords may be sent before STARTTLS.</summary>
    public bool AuthBeforeStartTls { get; set; }
    /// <summary>Every capability of the fixed set seen in any of its lists.</summary>
    public MailCapabilities Capabilities { get; set; }
    public long Logins { get; set; }
    public long LoginsFailed { get; set; }
    public long CleartextLogins { get; set; }
    /// <summary>Cleartext logins the server answered with success: a readable password that works.</summary>
    public long CleartextLoginsAccepted { get; set; }
    public long StartTlsUpgrades { get; set; }
    /// <summary>Packet time of the first and last event that involved it.</summary>
    public long FirstSeenNs { get; set; } = long.MaxValue;
    public long LastSeenNs { get; set; } = long.MinValue;
    /// <summary>The last connection it was seen on (a report needs one; it is not written out).</summary>
    public string LastFlowId { get; set; } = "";
    public IpEndpoint LastClient { get; set; }

    /// <summary>An event touched this server: its time and connection.</summary>
    public void Seen(SensorEvent e)
    {
        if (e.TimestampNs < FirstSeenNs) FirstSeenNs = e.TimestampNs;
        if (e.TimestampNs > LastSeenNs) LastSeenNs = e.TimestampNs;
        LastFlowId = e.FlowId;
        LastClient = e.Client;
    }

    public ServerReport ToReport(long nowNs, bool evicted) => new()
    {
        TimestampNs = nowNs,
        FlowId = LastFlowId,
        Client = LastClient,
        Server = Server,
        Protocol = Protocol,
        Tunnel = Tunnel,
        FirstSeenNs = FirstSeenNs,
        LastSeenNs = LastSeenNs,
        OffersStartTls = OffersStartTls,
        LoginDisabled = LoginDisabled,
        AuthBeforeStartTls = AuthBeforeStartTls,
        Capabilities = Capabilities,
        Logins = Logins,
        LoginsFailed = LoginsFailed,
        CleartextLogins = CleartextLogins,
        CleartextLoginsAccepted = CleartextLoginsAccepted,
        StartTlsUpgrades = StartTlsUpgrades,
        Evicted = evicted,
    };
}
