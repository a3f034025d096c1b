using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Faults;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Report;

/// <summary>Where the report goes when it cannot be written, and how big it may get.</summary>
public sealed class ReportOutputTests
{
    private static readonly string Dovecot = Path.Combine(RepoPaths.Pcaps, "dovecot");

    [Fact]
    public void AReportInAFolderThatDoesNotExistIsExit3BeforeAnythingIsRead()
    {
        var run = SensorProcess.Run("read", "--json", "--report", "/nonexistent/sensor-report/r.html", Dovecot);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("cannot write the report '/nonexistent/sensor-report/r.html': no such folder '/nonexistent/sensor-report'", run.StdErr);
        Assert.Equal("", run.StdOut); // failed at once: no capture was read
    }

    [Fact]
    public void AReportOnAFullDiskIsExit3AndLeavesNoHalfPage()
    {
        using var disk = new SmallDisk(16);
        var page = Path.Combine(disk.Path, "report.html");
        var run = SensorProcess.Run("read", "--json", "--no-summary", "--report", page, Dovecot);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains($"cannot write the report '{page}': No space left on device", run.StdErr);
        Assert.NotEmpty(run.StdOutLines); // the events were written: only the page failed
        Assert.Empty(Directory.GetFiles(disk.Path)); // neither a truncated page nor its temporary file
    }

    [Fact]
    public void AReportReplacesTheFileOnlyWhenComplete()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-report-").FullName;
        try
        {
            var page = Path.Combine(dir, "report.html");
            File.WriteAllText(page, "an older report");
            var run = SensorProcess.Run("read", "--no-summary", "--report", page, Dovecot);
            Assert.Equal(0, run.ExitCode);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(page));
            Assert.EndsWith("</html>\n", File.ReadAllText(page));
            Assert.Equal(["report.html"], Directory.GetFiles(dir).Select(Path.GetFileName));
            // Created 0640 like the event log: it names users and servers.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(page));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AReadStoppedBySigtermLeavesNeitherAPageNorItsTemporaryFile()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-report-").FullName;
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo(RepoPaths.SensorExecutable)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in (string[])["read", "--json", "--report", Path.Combine(dir, "report.html"), "-"]) psi.ArgumentList.Add(a);
            using var sensor = System.Diagnostics.Process.Start(psi)!;
            var stdout = sensor.StandardOutput.ReadToEndAsync();
            var stderr = sensor.StandardError.ReadToEndAsync();
            // A capture on standard input that has not ended: the read is under way when the signal comes.
            sensor.StandardInput.BaseStream.Write(File.ReadAllBytes(Path.Combine(RepoPaths.Pcaps, "crafted", "pop3-user-pass.pcap")));
            sensor.StandardInput.BaseStream.Flush();
            var until = DateTime.UtcNow.AddSeconds(30);
            while (Directory.GetFiles(dir).Length == 0 && DateTime.UtcNow < until) Thread.Sleep(20);
            Assert.Single(Directory.GetFiles(dir), f => Path.GetFileName(f).EndsWith(".tmp"));
            Thread.Sleep(500);
            Assert.False(sensor.HasExited, "the read ended before the signal");
            Posix.Kill(sensor.Id, Posix.SigTerm);
            Assert.True(sensor.WaitForExit(30_000));
            Assert.Empty(Directory.GetFiles(dir));
            sensor.StandardInput.Close();
            await stdout;
            Assert.DoesNotContain("report written", await stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EveryGuessingEpisodeOfTheRunIsARowOfTheGuessingTable()
    {
        // The crafted captures share one client and server and one clock: their failures add up to episodes.
        using var run = new ReportRun(Path.Combine(RepoPaths.Pcaps, "crafted"));
        var alerts = run.Events.Where(e => (string?)e["event_type"] == "bruteforce").ToList();
        Assert.NotEmpty(alerts);
        var rows = JsonNode.Parse(run.DataSection)!["guessing"]!["rows"]!.AsArray();
        string Key(string time, string kind, string client, string server, long failures) => $"{time} {kind} {client} {server} {failures}";
        Assert.Equal(
            alerts.Select(a => Key((string)a["timestamp"]!, (string)a["bruteforce"]!["kind"]!, (string)a["src_ip"]!,
                ReportRun.Endpoint((string)a["dest_ip"]!, (int)a["dest_port"]!), (long)a["bruteforce"]!["failures"]!)),
            rows.Select(r => Key((string)r!["timestamp"]!, (string)r["kind"]!, (string)r["client"]!, (string)r["server"]!, (long)r["failures"]!)));
        Assert.Equal(alerts.Count, CountOf(run.Html[..run.Html.IndexOf("id=\"report-data\"", StringComparison.Ordinal)], "<tr><td>20"));
        Assert.Equal(alerts.Count.ToString(), System.Text.RegularExpressions.Regex.Match(run.Html, "id=\"n-guessing\"[^>]*><dt>[^<]*</dt><dd>([0-9]+)</dd>").Groups[1].Value);
    }

    [Fact]
    public void TheReportOfAManyClientCaptureKeepsItsTablesAndTimelineBounded()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-report-").FullName;
        try
        {
            var capture = Path.Combine(dir, "many.pcap");
            var generate = ExternalProcess.RunToEnd(RepoPaths.CaptureGenerator,
                ["--out", capture, "--sessions", "3000", "--seed", "5", "--body-kib", "0", "--noise-ratio", "0"], TimeSpan.FromSeconds(120));
            Assert.True(generate.Code == 0, generate.Err);
            using var run = new ReportRun(capture);
            var data = JsonNode.Parse(run.DataSection)!;
            foreach (var (table, key) in new[] { ("clients", "src_ip"), ("usernames", "username") })
            {
                long distinct = run.Logins.Select(e => key == "src_ip" ? (string?)e[key] : (string?)e["auth"]![key]).Distinct().LongCount();
                Assert.True(distinct > 500, $"only {distinct} distinct {table}: the capture does not test the cap");
                Assert.Equal(500, data[table]!["rows"]!.AsArray().Count);
                Assert.Equal(distinct - 500, (long)data[table]!["not_shown"]!);
                Assert.Contains($"{distinct - 500:N0} more not shown", run.Html);
                Assert.Equal(500, CountOf(run.Html, "<tr><td class=\"" + (table == "clients" ? "client" : "wire username") + "\""));
            }
            Assert.Equal(run.Logins.LongCount(), data["timeline"]!["buckets"]!.AsArray().Sum(b => b!["counts"]!.AsArray().Sum(c => (long)c!)));
            Assert.True(data["timeline"]!["buckets"]!.AsArray().Count <= 240);
            Assert.True(run.Html.Length < 2_000_000, $"the page is {run.Html.Length} characters");
        }
        finally { Directory.Delete(dir, true); }
    }

    private static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
