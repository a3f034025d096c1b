using System.Diagnostics;
using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Faults;

/// <summary>
/// Faults of the event output, with real pipes, real files and a real full disk: each ends with its
/// cause on stderr and a defined exit code, and the events written before it stay whole.
/// </summary>
public sealed class EventOutputFaultTests
{
    private static readonly string Capture = Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap");

    /// <summary>The same capture many times over, then a path whose error shows the read got to the end.</summary>
    private static string[] ManyCopiesThen(string marker, int copies = 400) =>
        [.. Enumerable.Repeat(Capture, copies), marker];

    [Fact]
    public async Task AClosedStdoutStopsTheReadAtOnceWithExit3()
    {
        const string marker = "/nonexistent/read-reached-the-end.pcap";
        var psi = new ProcessStartInfo(RepoPaths.SensorExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["read", "--json", .. ManyCopiesThen(marker)]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        // `| head -1`: one line, then the reading end goes away.
        var first = p.StandardOutput.ReadLine();
        p.StandardOutput.Close();
        Assert.True(p.WaitForExit(60_000), "sensor went on after its stdout was closed");
        Assert.NotNull(JsonNode.Parse(first!));
        Assert.Equal(3, p.ExitCode);
        var err = await stderr;
        Assert.Contains("cannot write events to standard output: Broken pipe", err);
        Assert.DoesNotContain("read-reached-the-end", err); // it stopped, it did not read on into the void
        Assert.Single(err.Split('\n'), l => l.Contains("Broken pipe"));
    }

    [Fact]
    public void AFullDiskStopsTheReadWithExit3AndEveryEventBeforeItIsWhole()
    {
        using var disk = new SmallDisk(64);
        var events = Path.Combine(disk.Path, "events.json");
        var run = SensorProcess.Run(["read", "--events", events, .. ManyCopiesThen("/nonexistent/read-reached-the-end.pcap")]);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains($"cannot write events to {events}: No space left on device", run.StdErr);
        Assert.DoesNotContain("read-reached-the-end", run.StdErr);
        var text = File.ReadAllText(events);
        Assert.EndsWith("\n", text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 20, $"only {lines.Length} events before the disk was full");
        // Logins, and the server event that ends each copy read whole before the disk filled.
        foreach (var l in lines) Assert.Contains((string?)JsonNode.Parse(l)!["event_type"], new[] { "auth", "server" });
    }

    [Fact]
    public void AnEventFileThatCannotBeCreatedIsExit3BeforeAnythingIsRead()
    {
        var run = SensorProcess.Run("read", "--events", "/etc/hostname/events.json", Capture);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal("", run.StdOut);
        var line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sensor: cannot open event file '/etc/hostname/events.json'", line);
    }

    [Fact]
    public void AnEventLogThatCannotBeCreatedIsExit3BeforeCapturing()
    {
        var run = SensorProcess.Run("run", "--interface", "lo", "--events", "/etc/hostname/events.json");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("sensor: cannot open the event log '/etc/hostname/events.json'", run.StdErr);
        Assert.DoesNotContain("capturing on", run.StdErr);
    }

    [Fact]
    public void TheEventFileIsReadableByOwnerAndGroupOnly()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-mode-").FullName;
        try
        {
            var events = Path.Combine(dir, "events.json");
            var run = SensorProcess.Run("read", "--events", events, Capture);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(events));
            Assert.Equal(20, File.ReadAllLines(events).Count(l => l.Contains("\"event_type\":\"auth\"", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// The live service on a disk that fills up: the loss is logged once with its cause, counted in
    /// health, writing resumes when space is freed, and the exit code at stop says events were lost.
    /// </summary>
    [Fact]
    public void AFullDiskDuringTheServiceIsCountedResumedAndExit3AtStop()
    {
        const int imap = 10543, pop3 = 10510; // ports of this test alone: the live tests run beside it
        using var disk = new SmallDisk(64);
        using var dovecot = new DovecotServer(imap, pop3);
        var events = Path.Combine(disk.Path, "events.json");
        using var sensor = new ExternalProcess(RepoPaths.SensorExecutable,
            ["run", "--interface", "lo", "--ports", $"{imap},{pop3}", "--events", events, "--workers", "1"],
            environment: new Dictionary<string, string> { ["SENSOR_Health__IntervalSeconds"] = "1" });
        Assert.True(sensor.WaitForStdErr("capturing on", TimeSpan.FromSeconds(20)), sensor.StdErr);
        Thread.Sleep(300);

        void Logins(int count)
        {
            var code = $"import imaplib\nfor _ in range({count}):\n c=imaplib.IMAP4('{DovecotServer.Host}',{imap}); c.login('alice','wonderland'); c.logout()";
            var (rc, _, err) = ExternalProcess.RunToEnd("python3", ["-c", code], TimeSpan.FromSeconds(60));
            Assert.True(rc == 0, err);
        }

        int LinesIn() => File.Exists(events) ? File.ReadAllLines(events).Length : 0;
        bool WaitFor(Func<bool> condition)
        {
            var until = DateTime.UtcNow.AddSeconds(30); // generous: the machine may be busy
            while (DateTime.UtcNow < until) { if (condition()) return true; Thread.Sleep(20); }
            return false;
        }

        Logins(1);
        Assert.True(WaitFor(() => LinesIn() == 1), sensor.StdErr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(events));
        // tmpfs hands out whole pages: the page the log already has takes a few more lines, then
        // writes fail with ENOSPC (a shorter event may still fit the page's rest after a longer one
        // failed and was cut back: written, and the writer says it writes again).
        var filler = disk.FillLeaving(0);
        Logins(30);
        Assert.True(WaitFor(() => sensor.StdErr.Contains("events are lost")), sensor.StdErr);
        // The health line accounts for every one of the 31 logins so far: written or lost.
        bool HealthAccountsFor(int logins) => System.Text.RegularExpressions.Regex.Matches(sensor.StdErr, @"events (\d+) \(lost (\d+)\)")
            .Any(m => int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value) == logins && m.Groups[2].Value != "0");
        Assert.True(WaitFor(() => HealthAccountsFor(31)), sensor.StdErr);
        int beforeFreeing = LinesIn();

        File.Delete(filler);
        Logins(1);
        Assert.True(WaitFor(() => LinesIn() == beforeFreeing + 1), sensor.StdErr);
        // The line is logged just after the write; stderr reaches the test a moment later.
        Assert.True(WaitFor(() => sensor.StdErr.Contains("events are written to " + events + " again;")), sensor.StdErr);

        Assert.True(sensor.Signal(Posix.SigTerm, TimeSpan.FromSeconds(10)), "sensor did not stop");
        Assert.Equal(3, sensor.ExitCode);
        // Logged when an outage starts, not per lost event.
        int outages = sensor.StdErr.Split('\n').Count(l => l.Contains("No space left on device"));
        Assert.InRange(outages, 1, sensor.StdErr.Split('\n').Count(l => l.Contains(" again; ")));
        var stopped = System.Text.RegularExpressions.Regex.Match(sensor.StdErr, @"capture stopped; (\d+) events written, (\d+) lost");
        Assert.True(stopped.Success, sensor.StdErr);
        int written = int.Parse(stopped.Groups[1].Value), lost = int.Parse(stopped.Groups[2].Value);
        // 32 logins and, at stop, the server inventory's report of the one Dovecot IMAP server.
        Assert.True(written + lost == 33, $"{written} written + {lost} lost != 32 logins + 1 server event\n{sensor.StdErr}");
        Assert.True(lost >= 1);
        // Every line on disk is a whole event: the failed writes left nothing behind.
        var kept = File.ReadAllLines(events).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(written, kept.Count);
        Assert.All(kept.Where(e => (string?)e["event_type"] != "server"), e => Assert.Equal("success", (string?)e["auth"]!["outcome"]));
    }
}
