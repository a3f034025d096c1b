using Sensor.Core.Events;
using Sensor.Core.Site;

namespace Sensor.Outputs.EventLog;

/// <summary>The words events use on the wire format; kept in one place so every writer agrees.</summary>
public static class EventNames
{
    public const string Redacted = "[redacted]";

    /// <summary>
    /// An endpoint for people to read: "10.0.0.5:143", and "10.0.0.5:143 in vxlan:42" when it lives in a
    /// tenant network (<see cref="Sensor.Core.Flows.Encapsulation.Tenant"/>), where the address alone is ambiguous.
    /// </summary>
    public static string Where(Sensor.Core.Flows.IpEndpoint endpoint, in Sensor.Core.Flows.Encapsulation tunnel) =>
        tunnel.Tenant is { } tenant ? $"{endpoint} in {tenant}" : endpoint.ToString();

    /// <summary>The same for an address alone.</summary>
    public static string WhereAddress(Sensor.Core.Flows.IpEndpoint endpoint, in Sensor.Core.Flows.Encapsulation tunnel) =>
        tunnel.Tenant is { } tenant ? $"{endpoint.AddressText} in {tenant}" : endpoint.AddressText;

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
    /// <remarks>
    /// Written digit by digit, the same text as the custom format "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"
    /// (ffffff truncates the seventh digit; every year a long of nanoseconds reaches has four digits): every
    /// event has one, and parsing the format string each time cost about 3,000 instructions per
    /// event, 2 % of a `read --json` (callgrind). EventNamesTests compares the two.
    /// </remarks>
    public static string Timestamp(long ns)
    {
        var t = DateTime.UnixEpoch.AddTicks(ns / 100); // every long lands in 1677-2262
        t.Deconstruct(out int year, out int month, out int day);
        long ofDay = t.Ticks % TimeSpan.TicksPerDay;
        int seconds = (int)(ofDay / TimeSpan.TicksPerSecond);
        int micros = (int)(ofDay % TimeSpan.TicksPerSecond / 10);
        return string.Create(27, (year, month, day, seconds, micros), static (c, v) =>
        {
            Digits(c[..4], v.year);
            c[4] = '-';
            Digits(c.Slice(5, 2), v.month);
            c[7] = '-';
            Digits(c.Slice(8, 2), v.day);
            c[10] = 'T';
            Digits(c.Slice(11, 2), v.seconds / 3600);
            c[13] = ':';
            Digits(c.Slice(14, 2), v.seconds / 60 % 60);
            c[16] = ':';
            Digits(c.Slice(17, 2), v.seconds % 60);
            c[19] = '.';
            Digits(c.Slice(20, 6), v.micros);
            c[26] = 'Z';
        });
    }

    /// <summary><paramref name="value"/> in exactly as many decimal digits as <paramref name="into"/> holds, zero-padded.</summary>
    private static void Digits(Span<char> into, int value)
    {
        for (int i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (char)('0' + value % 10);
            value /= 10;
        }
    }
}
