using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace Sensor.Outputs.Diagnostics;

/// <summary>
/// Text that reaches a terminal from outside the sensor (a capture file's name, a server's error text)
/// is shown with its control characters escaped: a name holding a newline would split a one-line
/// message in two, and one holding ESC sequences would drive the analyst's terminal.
/// </summary>
public sealed class ControlCharacterEscaper : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        foreach (var (name, value) in logEvent.Properties.ToList())
            if (value is ScalarValue { Value: string text } && HasControl(text))
                logEvent.AddOrUpdateProperty(new LogEventProperty(name, new ScalarValue(Escape(text))));
    }

    public static bool HasControl(string text)
    {
        foreach (char c in text)
            if (char.IsControl(c)) return true;
        return false;
    }

    /// <summary>\n, \r, \t and \e by name, other control characters as \xHH (\u for those above 0xFF).</summary>
    public static string Escape(string text)
    {
        if (!HasControl(text)) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (!char.IsControl(c)) sb.Append(c);
            else sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\x1b' => "\\e",
                _ => c <= 0xFF ? $"\\x{(int)c:X2}" : $"\\u{(int)c:X4}",
            });
        }
        return sb.ToString();
    }
}
