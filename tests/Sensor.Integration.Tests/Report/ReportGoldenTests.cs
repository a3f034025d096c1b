using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Report;

/// <summary>
/// The report's data section (the JSON every table, the headline and the timeline are rendered from)
/// for the bundled real-software captures equals a committed file. It holds no time of the run and
/// no host, so it changes only when the analysis or the report does.
///
/// To regenerate after a deliberate change (or after adding captures to those folders): run this
/// test; on a difference it writes what it got to
/// artifacts/test-results/report/bundled-captures.report-data.actual.json. Read the diff, then
///   cp artifacts/test-results/report/bundled-captures.report-data.actual.json \
///      tests/Sensor.Integration.Tests/Report/bundled-captures.report-data.json
/// </summary>
public sealed class ReportGoldenTests
{
    private const string Golden = "bundled-captures.report-data.json";
    private static readonly string[] Folders = ["dovecot", "smtp", "third-party"];

    private static string[] Captures => Folders.Select(f => Path.Combine(RepoPaths.Pcaps, f)).ToArray();

    /// <summary>The data section with the checkout's own path taken out of the capture names.</summary>
    private static string DataSection(params string[] args)
    {
        using var run = new ReportRun(args);
        return run.DataSection.Replace(RepoPaths.Root + "/", "", StringComparison.Ordinal);
    }

    [Fact]
    public void TheDataSectionOfTheBundledCapturesEqualsTheCommittedFile()
    {
        var actual = DataSection(["--threads", "1", .. Captures]);
        var expected = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Sensor.Integration.Tests", "Report", Golden)).TrimEnd('\n');
        if (actual != expected)
        {
            var written = ReportRun.ArtifactPath(Path.ChangeExtension(Golden, ".actual.json"));
            File.WriteAllText(written, actual + "\n");
            Assert.Fail($"the report's data section differs from {Golden}; what this run made is in {written} (see the class comment to accept it)");
        }
    }

    [Fact]
    public void OneThreadAndTwoMakeTheSameReport()
    {
        var one = JsonNode.Parse(DataSection(["--threads", "1", .. Captures]))!;
        var two = JsonNode.Parse(DataSection(["--threads", "2", .. Captures]))!;
        // Workers hold their buffers at the same time: the parallel peak is their sum, an upper bound.
        foreach (var d in new[] { one, two }) d["counters"]!.AsObject().Remove("bytes_buffered_peak");
        Assert.Equal(one.ToJsonString(), two.ToJsonString());
        Assert.True(one["headline"]!["logins"]!.GetValue<long>() > 50);
    }
}
