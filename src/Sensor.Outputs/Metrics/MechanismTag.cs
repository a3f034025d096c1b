using System.Collections.Frozen;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// The `mechanism` tag of mail_auth: one of a fixed set, whatever the wire said. The mechanism
/// name comes from the client (`AUTHENTICATE &lt;anything&gt;`, `AUTH &lt;anything&gt;`), and every
/// distinct tag value is a new series in InfluxDB: taken as sent, one client could create millions.
/// Names outside the set become <see cref="Other"/>; the event log keeps the real name.
/// </summary>
public static class MechanismTag
{
    public const string Other = "AUTH=other";

    /// <summary>Every value the tag can take. IMAP, POP3 and SMTP share them.</summary>
    public static readonly IReadOnlyList<string> Values =
    [
        "LOGIN", "USER", "APOP",
        "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5", "AUTH=DIGEST-MD5",
        "AUTH=SCRAM-SHA-1", "AUTH=SCRAM-SHA-256", "AUTH=SCRAM-SHA-1-PLUS", "AUTH=SCRAM-SHA-256-PLUS",
        "AUTH=NTLM", "AUTH=GSSAPI", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=EXTERNAL", "AUTH=ANONYMOUS",
        Other,
    ];

    // SASL mechanism names are case-insensitive (RFC 4422 §3.1); the tag is always the canonical spelling.
    private static readonly FrozenDictionary<string, string> Known =
        Values.Where(v => v != Other).ToFrozenDictionary(v => v, v => v, StringComparer.OrdinalIgnoreCase);

    public static string Of(string mechanism) => Known.TryGetValue(mechanism, out var tag) ? tag : Other;
}
