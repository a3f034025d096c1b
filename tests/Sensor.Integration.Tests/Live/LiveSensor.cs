using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Live;

/// <summary>`sensor run` started by a test, with its event file.</summary>
public sealed class LiveSensor : IDisposable
{
    private readonly string _dir;

    public LiveSensor(string iface, params string[] extraArgs) : this(iface, null, extraArgs) { }

    public LiveSensor(string iface, IDictionary<string, string>? environment, params string[] extraArgs)
    {
        _dir = Directory.CreateTempSubdirectory("sensor-live-").FullName;
        EventsPath = Path.Combine(_dir, "events.json");
        Process = new ExternalProcess(RepoPaths.SensorExecutable,
            ["run", "--interface", iface, "--events", EventsPath, .. extraArgs], environment: environment);
        if (!Process.WaitForStdErr("capturing on", TimeSpan.FromSeconds(20)))
            throw new InvalidOperationException("sensor did not start: " + Process.StdErr);
    }

    public ExternalProcess Process { get; }
    public string EventsPath { get; }

    /// <summary>The findings in the event file: every event but the server inventory's reports (see <see cref="ServerEvents"/>).</summary>
    public List<JsonObject> Events() => AllEvents().Where(e => (string?)e["event_type"] != "server").ToList();

    /// <summary>The server inventory's reports in the event file.</summary>
    public List<JsonObject> ServerEvents() => AllEvents().Where(e => (string?)e["event_type"] == "server").ToList();

    public List<JsonObject> AllEvents()
    {
        if (!File.Exists(EventsPath)) return [];
        using var s = new FileStream(EventsPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        var text = r.ReadToEnd();
        // Only whole lines: the sensor may be writing the next one.
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    /// <summary>Waits until at least <paramref name="count"/> events are in the file; returns how long that took.</summary>
    public TimeSpan WaitForEvents(int count, TimeSpan timeout)
    {
        var start = DateTime.UtcNow;
        while (DateTime.UtcNow - start < timeout)
        {
            if (Events().Count >= count) return DateTime.UtcNow - start;
            Thread.Sleep(10);
        }
        return DateTime.UtcNow - start;
    }

    public void Dispose()
    {
        Process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
