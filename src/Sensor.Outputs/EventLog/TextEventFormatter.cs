using System.Globalization;
using System.Text;
using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>One readable line per finding, for a person at a terminal.</summary>
public static class TextEventFormatter
{
    public static string Format(SensorEvent e) => e switch
    {
        AuthAttempt a =>
            $"{EventNames.Timestamp(a.TimestampNs)}  {EventNames.Of(a.Protocol).ToUpperInvariant(),-4}  login  {Quote(a.Mechanism),-14} " +
            $"{EventNames.Of(a.Exposure),-9}  {EventNames.Of(a.Outcome),-7}  user={Quote(a.Username)}  " +
            $"{a.Client} -> {a.Server}  secret={(a.Secret is null ? EventNames.Redacted : Quote(a.Secret))}",
        StartTlsUpgrade s =>
            $"{EventNames.Timestamp(s.TimestampNs)}  {EventNames.Of(s.Protocol).ToUpperInvariant(),-4}  starttls {EventNames.Of(s.Outcome),-7}  " +
            $"{s.Client} -> {s.Server}",
        PasswordGuessing g =>
            $"{EventNames.Timestamp(g.TimestampNs)}  {EventNames.Of(g.Protocol).ToUpperInvariant(),-4}  ALERT {(g.Kind == GuessingKind.Spraying ? "password spraying" : "password guessing")}: " +
            $"{g.Failures} failed logins, {g.DistinctUsernames} usernames in {g.WindowSeconds}s" +
            $"{(g.Username is null ? "" : $" against user={Quote(g.Username)}")}  {g.Client} -> {g.Server}",
        _ => e.ToString(),
    };

    /// <summary>
    /// Wire text (usernames, mechanism names, revealed secrets) as one token on one line: quoted when
    /// it holds white space or control characters, and every control character written as an escape
    /// (\n, \r, \t, \xNN), so that a username cannot end the line, forge a finding on the next one,
    /// or send escape sequences to the terminal. JSON output keeps the exact text.
    /// </summary>
    private static string Quote(string? s)
    {
        if (s is null) return "(unknown)";
        if (!s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return s;
        var quoted = new StringBuilder(s.Length + 8).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) quoted.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else quoted.Append(c);
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
