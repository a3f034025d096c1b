using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests;

/// <summary>The `sensor read` command as a user runs it: output shapes, exit codes, bad input.</summary>
public sealed class ReadCommandTests
{
    private static string ThirdParty(string name) => Path.Combine(RepoPaths.Pcaps, "third-party", name);

    /// <summary>A login event (each file's server events follow its findings).</summary>
    private static bool IsLogin(string jsonLine) => (string?)JsonNode.Parse(jsonLine)!["event_type"] == "auth";

    [Fact]
    public void JsonModePrintsOnlyJsonObjectsOnStdout()
    {
        var run = SensorProcess.Run("read", "--json", Path.Combine(RepoPaths.Pcaps, "third-party"));
        Assert.Equal(0, run.ExitCode);
        Assert.NotEmpty(run.StdOutLines);
        foreach (var line in run.StdOutLines)
        {
            var node = JsonNode.Parse(line);
            Assert.IsType<JsonObject>(node);
            Assert.Contains((string?)node!["event_type"], new[] { "auth", "starttls", "server" });
        }
        Assert.Contains("== Summary", run.StdErr);
    }

    [Fact]
    public void TextModePrintsOneLinePerFindingThenTheSummary()
    {
        var run = SensorProcess.Run("read", ThirdParty("pop3.pcap"));
        Assert.Equal(0, run.ExitCode);
        var logins = run.StdOutLines.Where(l => l.Contains(" login ")).ToList();
        Assert.Equal(3, logins.Count);
        Assert.All(logins, l => Assert.Contains("user=digitalinvestigator@networksims.com", l));
        Assert.Contains("servers offering STARTTLS that saw cleartext logins: 1", run.StdOut);
        Assert.Contains("pop3  AUTH=PLAIN", run.StdOut);
    }

    [Fact]
    public void RevealSecretsPutsThePasswordInTheEventAndWarns()
    {
        var run = SensorProcess.Run("read", "--json", "--reveal-secrets", ThirdParty("pop3-unknown-commands.pcap"));
        Assert.Equal(0, run.ExitCode);
        var e = JsonNode.Parse(run.StdOutLines.Single(IsLogin))!;
        Assert.Equal("zeek", (string?)e["auth"]!["secret"]);
        Assert.Contains("--reveal-secrets", run.StdErr);
    }

    [Fact]
    public void WithoutRevealTheSecretIsRedacted()
    {
        var run = SensorProcess.Run("read", "--json", ThirdParty("pop3-unknown-commands.pcap"));
        var e = JsonNode.Parse(run.StdOutLines.Single(IsLogin))!;
        Assert.Equal("[redacted]", (string?)e["auth"]!["secret"]);
        Assert.DoesNotContain("\"zeek\"", run.StdOut);
    }

    [Fact]
    public void MissingFileExitsWithOne()
    {
        var run = SensorProcess.Run("read", "/nonexistent/capture.pcap");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no such file or folder", run.StdErr);
    }

    [Fact]
    public void UnknownOptionIsAUsageErrorWithExitTwo()
    {
        var run = SensorProcess.Run("read", "--no-such-option", ThirdParty("pop3.pcap"));
        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.StdOut);
    }

    [Fact]
    public void NoArgumentsIsAUsageError() => Assert.Equal(2, SensorProcess.Run().ExitCode);

    [Fact]
    public void ReadWithoutPathIsAUsageError() => Assert.Equal(2, SensorProcess.Run("read").ExitCode);

    [Fact]
    public void NotACaptureFileIsReportedAndTheOtherFilesAreStillRead()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-test-");
        try
        {
            var junk = Path.Combine(dir.FullName, "a-junk.pcap");
            File.WriteAllText(junk, "this is not a capture file\n");
            File.Copy(ThirdParty("pop3.pcap"), Path.Combine(dir.FullName, "b-good.pcap"));
            var run = SensorProcess.Run("read", "--json", dir.FullName);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(3, run.StdOutLines.Count(IsLogin));
            Assert.Contains("a-junk.pcap", run.StdErr);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void OnlyUnreadableInputExitsWithOne()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, [1, 2, 3]);
            var run = SensorProcess.Run("read", file);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("cannot read", run.StdErr);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void TruncatedCaptureKeepsWhatWasFoundBeforeTheDamage()
    {
        // pop3.pcap cut in the middle of its last packet record: every login precedes the cut.
        var bytes = File.ReadAllBytes(ThirdParty("pop3.pcap"));
        var file = Path.Combine(Path.GetTempPath(), $"truncated-{Guid.NewGuid():N}.pcap");
        try
        {
            File.WriteAllBytes(file, bytes[..^20]);
            var run = SensorProcess.Run("read", "--json", file);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(3, run.StdOutLines.Count(IsLogin));
            Assert.Contains("truncated", run.StdErr);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void EventsNameTheClientAsSourceAndTheServerAsDestination()
    {
        var run = SensorProcess.Run("read", "--json", ThirdParty("pop3.pcap"));
        Assert.Equal(3, run.StdOutLines.Count(IsLogin));
        foreach (var line in run.StdOutLines.Where(IsLogin))
        {
            var e = JsonNode.Parse(line)!;
            Assert.Equal("192.168.0.4", (string?)e["src_ip"]);
            Assert.Equal(110, (int)e["dest_port"]!);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", (string)e["timestamp"]!);
            Assert.Matches("^[0-9a-f]{16}$", (string)e["flow_id"]!);
        }
    }
}
