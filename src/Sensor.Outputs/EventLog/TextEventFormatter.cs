using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// One readable line per finding, for a person at a terminal. Text from the wire (mechanism,
/// username, a revealed secret) goes through <see cref="WireText.Token"/>: it cannot end the line,
/// drive the terminal or pass for another field, and the line parses back to the same values.
/// </summary>
public static class TextEventFormatter
{
    /// <summary>Shown for a username the exchange did not reveal; a real "(unknown)" is quoted.</summary>
    public const string UnknownUser = "(unknown)";

    public static string Format(SensorEvent e) => e switch
    {
        AuthAttempt a =>
            $"{EventNames.Timestamp(a.TimestampNs)}  {EventNames.Of(a.Protocol).ToUpperInvariant(),-4}  login  {WireText.Token(a.Mechanism),-14} " +
            $"{EventNames.Of(a.Exposure),-9}  {EventNames.Of(a.Outcome),-7}  user={User(a.Username)}  " +
            $"{a.Client} -> {a.Server}{Direction(a)}  secret={(a.Secret is null ? EventNames.Redacted : WireText.Token(a.Secret))}",
        StartTlsUpgrade s =>
            $"{EventNames.Timestamp(s.TimestampNs)}  {EventNames.Of(s.Protocol).ToUpperInvariant(),-4}  starttls {EventNames.Of(s.Outcome),-7}  " +
            $"{s.Client} -> {s.Server}{Direction(s)}",
        PasswordGuessing g =>
            $"{EventNames.Timestamp(g.TimestampNs)}  {EventNames.Of(g.Protocol).ToUpperInvariant(),-4}  ALERT {(g.Kind == GuessingKind.Spraying ? "password spraying" : "password guessing")}: " +
            $"{g.Failures} failed logins, {g.DistinctUsernames} usernames in {g.WindowSeconds}s" +
            $"{(g.Username is null ? "" : $" against user={User(g.Username)}")}  {g.Client} -> {g.Server}{Direction(g)}",
        ServerReport r =>
            $"{EventNames.Timestamp(r.TimestampNs)}  {EventNames.Of(r.Protocol).ToUpperInvariant(),-4}  server {r.Server}" +
            $"{(r.Inside is bool inside ? inside ? " (inside)" : " (outside)" : "")}  starttls={(r.OffersStartTls is bool o ? o ? "offered" : "not-offered" : "unknown")}" +
            $"{(r.LoginDisabled ? "  LOGINDISABLED" : "")}  logins={r.Logins} failed={r.LoginsFailed} cleartext={r.CleartextLogins} cleartext-accepted={r.CleartextLoginsAccepted}" +
            $"{(r.Evicted ? "  (evicted from the inventory)" : "")}",
        _ => WireText.Escape(e.ToString()),
    };

    private static string Direction(SensorEvent e) => e.Direction is { } d ? $" ({EventNames.Of(d)})" : "";

    private static string User(string? s) => s is null ? UnknownUser : WireText.Token(s);
}
