namespace Sensor.Core.Events;

/// <summary>
/// A capability list seen on one connection (IMAP CAPABILITY, RFC 3501 §7.2.1; POP3 CAPA, RFC 2449;
/// SMTP EHLO, RFC 5321 §4.1.1.1).
/// Not a finding: <see cref="Mail.ServerPostureTracker"/> consumes it to learn what each server offers
/// and does not pass it on. It travels with the events (rather than being written into a shared
/// table by the session) so that flows analysed on different threads still see one server posture,
/// applied in capture order.
/// </summary>
public sealed record ServerCapabilities : SensorEvent
{
    public required bool OffersStartTls { get; init; }
    /// <summary>IMAP LOGINDISABLED (RFC 3501 §6.2.3).</summary>
    public required bool LoginDisabled { get; init; }
    /// <summary>SMTP: an EHLO reply read in cleartext listed AUTH (RFC 4954 §3), i.e. before any STARTTLS.</summary>
    public bool AuthBeforeStartTls { get; init; }
    /// <summary>What the list named, from the inventory's fixed set.</summary>
    public MailCapabilities Names { get; init; }
}
