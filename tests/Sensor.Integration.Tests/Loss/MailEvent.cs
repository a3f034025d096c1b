using System.Net;
using System.Text.Json.Nodes;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Outputs.EventLog;

namespace Sensor.Integration.Tests.Loss;

/// <summary>
/// One TCP connection, client first (the expected files' src is always the client), as text. An
/// expected file may leave parts out (third-party/ names only dest_port): those are null and match
/// anything.
/// </summary>
internal readonly record struct Connection(string? ClientIp, int? ClientPort, string? ServerIp, int? ServerPort)
{
    public static Connection Of(IpEndpoint client, IpEndpoint server) =>
        new(client.AddressText, client.Port, server.AddressText, server.Port);

    public bool IsComplete => ClientIp is not null && ClientPort is not null && ServerIp is not null && ServerPort is not null;

    /// <summary>Whether <paramref name="c"/> (a complete connection) agrees with every part given here.</summary>
    public bool Admits(Connection c) =>
        (ClientIp is null || ClientIp == c.ClientIp) && (ClientPort is null || ClientPort == c.ClientPort)
        && (ServerIp is null || ServerIp == c.ServerIp) && (ServerPort is null || ServerPort == c.ServerPort);

    public override string ToString() =>
        $"{ClientIp ?? "*"}:{ClientPort?.ToString() ?? "*"} -> {ServerIp ?? "*"}:{ServerPort?.ToString() ?? "*"}";
}

/// <summary>
/// An auth or starttls event reduced to what the loss rules compare, in the expected files'
/// vocabulary ("cleartext", "failure", …), whether it came from a NAME.expected.jsonl or from the sensor.
/// </summary>
internal sealed record MailEvent(string Type, Connection Connection, string? Mechanism, string? Username,
    string? Exposure, string? Outcome, long TimestampNs)
{
    public const string Auth = "auth", StartTls = "starttls";

    public bool IsAuth => Type == Auth;

    /// <summary>Null for events the loss rules do not look at (bruteforce).</summary>
    public static MailEvent? FromSensor(SensorEvent e) => e switch
    {
        AuthAttempt a => new(Auth, Connection.Of(a.Client, a.Server), a.Mechanism, a.Username,
            EventNames.Of(a.Exposure), EventNames.Of(a.Outcome), a.TimestampNs),
        StartTlsUpgrade s => new(StartTls, Connection.Of(s.Client, s.Server), null, null, null,
            EventNames.Of(s.Outcome), s.TimestampNs),
        _ => null,
    };

    /// <summary>An expected event; fields the file leaves out are null (then no rule relies on them).</summary>
    public static MailEvent? FromExpected(JsonObject o)
    {
        var type = (string?)o["event_type"];
        if (type is not (Auth or StartTls)) return null;
        var connection = new Connection(Address(o["src_ip"]), (int?)o["src_port"], Address(o["dest_ip"]), (int?)o["dest_port"]);
        if (type == StartTls) return new(StartTls, connection, null, null, null, (string?)o["tls"]?["outcome"], 0);
        var a = o["auth"]!.AsObject();
        return new(Auth, connection, (string?)a["mechanism"], (string?)a["username"], (string?)a["exposure"],
            (string?)a["outcome"], 0);
    }

    private static string? Address(JsonNode? n) => n is null ? null : IPAddress.Parse((string)n!).ToString();

    /// <summary>
    /// <paramref name="other"/> (a sensor event) is the same login attempt as this one as far as loss
    /// can tell: its connection is admitted by this one's, and mechanism and username are the same.
    /// </summary>
    public bool SameLoginAs(MailEvent other) =>
        IsAuth && other.IsAuth && Connection.Admits(other.Connection) && Mechanism == other.Mechanism && Username == other.Username;

    public override string ToString() => IsAuth
        ? $"auth {Mechanism} {Username ?? "null"} {Exposure} {Outcome} ({Connection})"
        : $"starttls {Outcome} ({Connection})";
}
