using Serilog.Events;
using Serilog.Formatting;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// Writes the event's own JSON (already shaped by <see cref="JsonEventFormatter"/>) as one line, so
/// the rolling event file holds exactly the same objects as `sensor read --json`.
/// </summary>
public sealed class RawJsonFormatter : ITextFormatter
{
    public const string PropertyName = "EventJson";

    public void Format(LogEvent logEvent, TextWriter output)
    {
        if (logEvent.Properties.TryGetValue(PropertyName, out var v) && v is ScalarValue { Value: string json })
        {
            output.Write(json);
            output.Write('\n');
        }
    }
}
