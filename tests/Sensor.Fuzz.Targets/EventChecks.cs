using System.Text.Json;
using Sensor.Core.Events;
using Sensor.Outputs.EventLog;

namespace Sensor.Fuzz.Targets;

/// <summary>What must hold for any event, whatever the wire carried.</summary>
public static class EventChecks
{
    /// <summary>Without --reveal-secrets no secret reaches an event (AuthAttempt.Secret stays null).</summary>
    public static void NoSecrets(IEnumerable<SensorEvent> events)
    {
        foreach (var e in events)
            if (e is AuthAttempt { Secret: not null } a)
                throw new InvariantViolation($"a {a.Mechanism} auth event carries a secret although none was asked for");
    }

    /// <summary>
    /// Attacker text stays data: each event is one JSON object on one line that parses back to the
    /// same username, and one readable line with no control character (no line breaks a log reader
    /// would split on, no terminal escapes).
    /// </summary>
    public static void FormatsAsOneLine(SensorEvent e)
    {
        var json = JsonEventFormatter.ToJson(e, "fuzz.pcap");
        InvariantViolation.Check(json.IndexOfAny(['\n', '\r']) < 0, $"JSON of a {EventNames.EventType(e)} event spans lines");
        using (var doc = JsonDocument.Parse(json))
        {
            if (e is AuthAttempt a)
            {
                var u = doc.RootElement.GetProperty("auth").GetProperty("username");
                InvariantViolation.Check(a.Username is null ? u.ValueKind == JsonValueKind.Null : u.GetString() == ValidUtf16(a.Username),
                    "the JSON username does not read back as the event's username");
            }
        }
        var text = TextEventFormatter.Format(e);
        foreach (char c in text)
            InvariantViolation.Check(!char.IsControl(c), $"the text line of a {EventNames.EventType(e)} event holds control character U+{(int)c:X4}");
    }

    public static void FormatAsOneLine(IEnumerable<SensorEvent> events)
    {
        foreach (var e in events) FormatsAsOneLine(e);
    }

    /// <summary>System.Text.Json writes a lone surrogate as U+FFFD; compare with what it can write.</summary>
    private static string ValidUtf16(string s) => System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(s));

    /// <summary>The events with secrets removed, for comparing a revealing run with a redacting one.</summary>
    public static List<SensorEvent> WithoutSecrets(IEnumerable<SensorEvent> events) =>
        events.Select(e => e is AuthAttempt a ? a with { Secret = null } : e).ToList();

    public static void SameEvents(IReadOnlyList<SensorEvent> expected, IReadOnlyList<SensorEvent> actual, string what)
    {
        InvariantViolation.Check(expected.Count == actual.Count, $"{what}: {expected.Count} events against {actual.Count}");
        for (int i = 0; i < expected.Count; i++)
            InvariantViolation.Check(expected[i].Equals(actual[i]),
                $"{what}: event {i} differs ({EventNames.EventType(expected[i])} against {EventNames.EventType(actual[i])})");
    }
}

/// <summary>Keeps every event, in order.</summary>
public sealed class EventList : Sensor.Core.Events.IEventSink
{
    public List<SensorEvent> Events { get; } = new();

    public void Emit(SensorEvent e) => Events.Add(e);
}
