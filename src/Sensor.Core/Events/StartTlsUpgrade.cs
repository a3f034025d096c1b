namespace Sensor.Core.Events;

/// <summary>One STARTTLS (IMAP, RFC 3501 §6.2.1) or STLS (POP3, RFC 2595 §4) command and the server's answer.</summary>
public sealed record StartTlsUpgrade : SensorEvent
{
    public required AuthOutcome Outcome { get; init; }
}
