using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Report;

/// <summary>
/// One `sensor read --json --report FILE` of some captures, with the events it printed beside the
/// page it wrote: the tests check the page against the events of the same run.
/// </summary>
public sealed class ReportRun : IDisposable
{
    private readonly string _dir;

    public ReportRun(params string[] args)
    {
        _dir = Directory.CreateTempSubdirectory("sensor-report-").FullName;
        Page = Path.Combine(_dir, "report.html");
        var run = SensorProcess.Run(["read", "--json", "--no-summary", "--report", Page, .. args]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.StdErr}");
        Html = File.ReadAllText(Page);
        Events = run.StdOutLines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    public string Page { get; }
    public string Html { get; }
    public IReadOnlyList<JsonObject> Events { get; }
    public IEnumerable<JsonObject> Logins => Events.Where(e => (string?)e["event_type"] == "auth");

    /// <summary>The page's data section, as written (the JSON document inside its script element).</summary>
    public string DataSection => DataSectionOf(Html);

    public static string DataSectionOf(string html)
    {
        const string open = "<script type=\"application/json\" id=\"report-data\">\n";
        int start = html.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has no data section");
        start += open.Length;
        int end = html.IndexOf("\n</script>", start, StringComparison.Ordinal);
        return html[start..end];
    }

    /// <summary>How the report writes a server: IPv6 in brackets.</summary>
    public static string Endpoint(string ip, int port) => ip.Contains(':') ? $"[{ip}]:{port}" : $"{ip}:{port}";

    /// <summary>Where a test keeps what a person may want to look at (not committed; `make test` clears it).</summary>
    public static string ArtifactPath(string name)
    {
        var dir = Path.Combine(RepoPaths.Root, "artifacts", "test-results", "report");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
