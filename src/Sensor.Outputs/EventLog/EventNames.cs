using Sensor.Core.Events;
using Sensor.Core.Site;

namespace Sensor.Outputs.EventLog;

/// <summary>The words events use on the wire format; kept in one place so every writer agrees.</summary>
public static class EventNames
{
    public const string Redacted = "[redacted]";

    public static string Of(AppProtocol p) => p switch
    {
        AppProtocol.Imap => "imap",
        AppProtocol.Pop3 => "pop3",
        _ => "smtp",
    };

    public static string Of(AuthOutcome o) => o switch
    {
        AuthOutcome.Success => "success",
        AuthOutcome.Failure => "failure",
        _ => "unknown",
    };

    public static string Of(CredentialExposure e) => e switch
    {
        CredentialExposure.Cleartext => "cleartext",
        CredentialExposure.Hashed => "hashed",
        CredentialExposure.None => "none",
        _ => "unknown",
    };

    public static string Of(TrafficDirection d) => d switch
    {
        TrafficDirection.Outbound => "outbound",
        TrafficDirection.Inbound => "inbound",
        TrafficDirection.Internal => "internal",
        _ => "external",
    };

    public static string EventType(SensorEvent e) => e switch
    {
        AuthAttempt => "auth",
        ServerReport => "server",
        StartTlsUpgrade => "starttls",
        PasswordGuessing => "bruteforce",
        _ => "other",
    };

    /// <summary>RFC 3339 UTC with microseconds, e.g. 2025-01-02T10:00:00.123456Z.</summary>
    public static string Timestamp(long ns)
    {
        var t = DateTime.UnixEpoch.AddTicks(ns / 100);
        return t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }
}
