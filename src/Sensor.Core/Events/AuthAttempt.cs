namespace Sensor.Core.Events;

/// <summary>
/// One login attempt (event_type "auth"), emitted once the server's answer is known or the
/// connection ends. <see cref="Secret"/> is null unless the user asked to reveal secrets: the
/// analyzers never even build the string otherwise.
/// </summary>
public sealed record AuthAttempt : SensorEvent
{
    /// <summary>"LOGIN", "USER", "APOP" or "AUTH=&lt;SASL name&gt;".</summary>
    public required string Mechanism { get; init; }
    public string? Username { get; init; }
    public string? Secret { get; init; }
    public required CredentialExposure Exposure { get; init; }
    public required AuthOutcome Outcome { get; init; }
    /// <summary>Whether this server advertised STARTTLS/STLS on this connection before the login (null: not seen).</summary>
    public bool? ServerOffersStartTls { get; init; }
}
