namespace Sensor.Core.Events;

/// <summary>
/// One mail server as the sensor knows it so far (event_type "server"): the inventory as data, at the
/// end of each capture file, periodically while live, and when the inventory's cap evicts it.
/// <see cref="SensorEvent.Server"/> and <see cref="SensorEvent.Protocol"/> name the service;
/// <see cref="SensorEvent.Client"/> and <see cref="SensorEvent.FlowId"/> are those of the last
/// connection it was seen on (not written to the event log: a server report is about no one
/// connection). <see cref="SensorEvent.TimestampNs"/> is the packet time of the report.
/// </summary>
public sealed record ServerReport : SensorEvent
{
    /// <summary>Packet time of the first and last event that involved this server.</summary>
    public required long FirstSeenNs { get; init; }
    public required long LastSeenNs { get; init; }
    /// <summary>STARTTLS/STLS advertised (null: no capability list seen).</summary>
    public bool? OffersStartTls { get; init; }
    public required bool LoginDisabled { get; init; }
    public required bool AuthBeforeStartTls { get; init; }
    /// <summary>Capabilities seen in its lists, from a fixed set (see <see cref="MailCapabilities"/>).</summary>
    public required MailCapabilities Capabilities { get; init; }
    public required long Logins { get; init; }
    public required long LoginsFailed { get; init; }
    /// <summary>Logins whose password or token was readable on the wire.</summary>
    public required long CleartextLogins { get; init; }
    /// <summary>Of those, the ones the server accepted: a readable password that works.</summary>
    public required long CleartextLoginsAccepted { get; init; }
    public required long StartTlsUpgrades { get; init; }
    /// <summary>Whether the server is in the home networks; null when none are configured.</summary>
    public bool? Inside { get; init; }
    /// <summary>Why it was reported: periodic or end of input, or evicted at the inventory's cap.</summary>
    public required bool Evicted { get; init; }
}
