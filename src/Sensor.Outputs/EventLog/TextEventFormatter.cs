using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>One readable line per finding, for a person at a terminal.</summary>
public static class TextEventFormatter
{
    public static string Format(SensorEvent e) => e switch
    {
        AuthAttempt a =>
            $"{EventNames.Timestamp(a.TimestampNs)}  {EventNames.Of(a.Protocol).ToUpperInvariant(),-4}  login  {a.Mechanism,-14} " +
            $"{EventNames.Of(a.Exposure),-9}  {EventNames.Of(a.Outcome),-7}  user={Quote(a.Username)}  " +
            $"{a.Client} -> {a.Server}  secret={a.Secret ?? EventNames.Redacted}",
        StartTlsUpgrade s =>
            $"{EventNames.Timestamp(s.TimestampNs)}  {EventNames.Of(s.Protocol).ToUpperInvariant(),-4}  starttls {EventNames.Of(s.Outcome),-7}  " +
            $"{s.Client} -> {s.Server}",
        PasswordGuessing g =>
            $"{EventNames.Timestamp(g.TimestampNs)}  {EventNames.Of(g.Protocol).ToUpperInvariant(),-4}  ALERT {(g.Kind == GuessingKind.Spraying ? "password spraying" : "password guessing")}: " +
            $"{g.Failures} failed logins, {g.DistinctUsernames} usernames in {g.WindowSeconds}s" +
            $"{(g.Username is null ? "" : $" against user={Quote(g.Username)}")}  {g.Client} -> {g.Server}",
        _ => e.ToString(),
    };

    private static string Quote(string? s) => s is null ? "(unknown)" : s.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "\"" + s.Replace("\"", "\\\"") + "\"" : s;
}
