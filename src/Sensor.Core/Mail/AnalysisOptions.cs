namespace Sensor.Core.Mail;

public sealed record AnalysisOptions
{
    /// <summary>Put real passwords, tokens and digests into events. Off unless the user asks.</summary>
    public bool RevealSecrets { get; init; }

    /// <summary>Longest protocol line kept (RFC 3501 sets no limit; 8 KB is far beyond real commands,
    /// SASL messages such as NTLM or GSSAPI tokens are the longest).</summary>
    public int MaxLineLength { get; init; } = 16 * 1024;

    /// <summary>Bytes of partial lines held across all connections of a pipeline (see LineBudget).</summary>
    public long MaxPartialLineBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Largest literal kept when it carries a credential (IMAP LOGIN); others are skipped by length.</summary>
    public int MaxCredentialLiteral { get; init; } = 4 * 1024;

    /// <summary>Commands awaiting an answer per connection (pipelining clients, RFC 2449 §6.6).</summary>
    public int MaxPendingCommands { get; init; } = 64;

    /// <summary>TCP ports where a flow is assumed to be mail even before its content says so.</summary>
    public IReadOnlyList<ushort> ImapPorts { get; init; } = [143];
    public IReadOnlyList<ushort> Pop3Ports { get; init; } = [110];
    /// <summary>SMTP (RFC 5321 §4.5.4.2: 25) and submission (RFC 6409: 587). 465 is implicit TLS (RFC 8314)
    /// and carries nothing readable.</summary>
    public IReadOnlyList<ushort> SmtpPorts { get; init; } = [25, 587];

    /// <summary>UDP ports whose datagrams are VXLAN (RFC 7348 §5: 4789; 8472 is Linux's historical default).</summary>
    public IReadOnlyList<ushort> VxlanPorts { get; init; } = [4789, 8472];
    /// <summary>UDP ports whose datagrams are GENEVE (RFC 8926 §3.3: 6081).</summary>
    public IReadOnlyList<ushort> GenevePorts { get; init; } = [6081];
    /// <summary>
    /// VLAN ids are part of a connection's identity (as Suricata's vlan.use-for-tracking): two VLANs
    /// with the same addresses are two networks. Turn off where one connection's two directions arrive
    /// on different VLANs (a SPAN of a router-on-a-stick trunk with asymmetric routing).
    /// </summary>
    public bool VlanSeparatesConnections { get; init; } = true;

    /// <summary>Servers the inventory tracks (see <see cref="ServerPostureTable"/>); the least recently seen makes room.</summary>
    public int MaxServers { get; init; } = ServerPostureTable.DefaultMaxServers;

    /// <summary>Packet time between inventory reports (server events) while live; null: none, only at the end.</summary>
    public TimeSpan? ServerReportInterval { get; init; }

    /// <summary>Every mail port above: the reassembler takes their side as the server when no handshake was seen.</summary>
    public IEnumerable<ushort> ServerPorts => ImapPorts.Concat(Pop3Ports).Concat(SmtpPorts);
}
