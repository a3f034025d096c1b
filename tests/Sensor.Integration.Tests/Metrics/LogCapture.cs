using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// The lines the code under test logs through Serilog's static Log, rendered as the sensor's console
/// shows them ("warning: InfluxDB at …"). Installed once for the test process; tests run in parallel,
/// so each picks its own lines by something only they contain (a port, a directory). A port is only
/// unique while it is bound: an earlier test's server may have had it, so lines about a server are
/// taken from the moment it started listening (<see cref="Mark"/>).
/// </summary>
public static class LogCapture
{
    private static readonly List<string> Lines = [];

    static LogCapture()
    {
        Log.Logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(new Collector()).CreateLogger();
    }

    /// <summary>Makes sure the capture is in place (the static constructor runs once).</summary>
    public static void Install() { }

    /// <summary>Where the lines logged from now on start, for <see cref="Containing(string, int)"/>.</summary>
    public static int Mark()
    {
        lock (Lines) return Lines.Count;
    }

    public static List<string> Containing(string text, int from = 0)
    {
        lock (Lines) return Lines.Skip(from).Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();
    }

    private sealed class Collector : ILogEventSink
    {
        private readonly MessageTemplateTextFormatter _format = new("{Level:w}: {Message:lj}");

        public void Emit(LogEvent e)
        {
            var text = new StringWriter();
            _format.Format(e, text);
            lock (Lines) Lines.Add(text.ToString());
        }
    }
}
