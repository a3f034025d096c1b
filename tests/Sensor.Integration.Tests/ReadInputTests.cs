using System.IO.Compression;
using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests;

/// <summary>
/// Captures as users hand them over: on stdin (`tcpdump -w - | sensor read -`), gzip'ed, and through
/// a BPF filter as `tcpdump -r FILE EXPR` takes one. Each gives exactly the events the plain file gives.
/// </summary>
public sealed class ReadInputTests : IDisposable
{
    private static readonly string Classic = Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap");
    private static readonly string PcapNg = Path.Combine(RepoPaths.Pcaps, "crafted", "format-pcapng.pcapng");
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>The events without pcap_file, which names where they came from.</summary>
    private static List<string> Events(SensorProcess.Result run) =>
        run.StdOutLines.Select(l => { var o = JsonNode.Parse(l)!.AsObject(); o.Remove("pcap_file"); return o.ToJsonString(); }).ToList();

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    [Theory]
    [InlineData("classic")]
    [InlineData("pcapng")]
    public void ACaptureOnStandardInputGivesTheEventsOfTheFile(string format)
    {
        var file = format == "classic" ? Classic : PcapNg;
        var expected = SensorProcess.Run("read", "--json", file);
        var piped = SensorProcess.RunWithInput(File.ReadAllBytes(file), "read", "--json", "-");
        Assert.Equal(0, piped.ExitCode);
        Assert.NotEmpty(Events(expected));
        Assert.Equal(Events(expected), Events(piped));
        Assert.All(piped.StdOutLines, l => Assert.Equal("-", (string?)JsonNode.Parse(l)!["pcap_file"]));
    }

    [Theory]
    [InlineData("classic")]
    [InlineData("pcapng")]
    public void AGzippedCaptureIsReadAsItIsOnDiskOrOnStandardInput(string format)
    {
        var file = format == "classic" ? Classic : PcapNg;
        var expected = Events(SensorProcess.Run("read", "--json", file));
        var gz = Path.Combine(_dir, Path.GetFileName(file) + ".gz");
        File.WriteAllBytes(gz, Gzip(File.ReadAllBytes(file)));

        var fromFile = SensorProcess.Run("read", "--json", gz);
        Assert.Equal(0, fromFile.ExitCode);
        Assert.Equal(expected, Events(fromFile));
        var fromFolder = SensorProcess.Run("read", "--json", _dir); // a folder scan picks .gz captures too
        Assert.Equal(expected, Events(fromFolder));
        var fromStdin = SensorProcess.RunWithInput(File.ReadAllBytes(gz), "read", "--json", "-");
        Assert.Equal(expected, Events(fromStdin));
    }

    [Fact]
    public void ACutGzipStreamIsReportedAndWhatCameBeforeItStands()
    {
        var whole = Gzip(File.ReadAllBytes(Classic));
        var cut = Path.Combine(_dir, "cut.pcap.gz");
        File.WriteAllBytes(cut, whole[..(whole.Length / 2)]);
        var run = SensorProcess.Run("read", "--json", cut);
        Assert.Equal(0, run.ExitCode); // a damaged file's readable part is analysed, as for a plain one
        Assert.Contains(cut, run.StdErr);
        // The findings: the server events at the end count what was read, so they differ by design.
        static List<string> Findings(List<string> events) => events.Where(e => !e.Contains("\"event_type\":\"server\"")).ToList();
        var events = Findings(Events(run));
        Assert.InRange(events.Count, 1, 19);
        var all = Findings(Events(SensorProcess.Run("read", "--json", Classic)));
        // Logins whose answer was cut off end as `unknown`; the rest are as in the whole capture.
        Assert.All(events.Where(e => !e.Contains("\"outcome\":\"unknown\"")), e => Assert.Contains(e, all));
        Assert.All(events, e => Assert.Contains(all, a => a.Contains(JsonNode.Parse(e)!["flow_id"]!.GetValue<string>())));
    }

    /// <summary>
    /// A named pipe (`mkfifo`, or the shell's `&lt;(tcpdump -w -)`) cannot be read at offsets: it is read
    /// as it comes, as standard input is, whatever its format. It used to end in an unhandled
    /// NotSupportedException ("Stream does not support seeking") and no events.
    /// </summary>
    [Theory]
    [InlineData("classic", false)]
    [InlineData("pcapng", false)]
    [InlineData("classic", true)]
    public void ACaptureThroughANamedPipeGivesTheEventsOfTheFile(string format, bool gzipped)
    {
        var file = format == "classic" ? Classic : PcapNg;
        var bytes = File.ReadAllBytes(file);
        if (gzipped) bytes = Gzip(bytes);
        var fifo = Path.Combine(_dir, "capture-pipe");
        var made = ExternalProcess.RunToEnd("mkfifo", [fifo], TimeSpan.FromSeconds(10));
        Assert.True(made.Code == 0, made.Err);
        var feeder = new Thread(() =>
        {
            using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            w.Write(bytes);
        }) { IsBackground = true };
        feeder.Start();

        var run = SensorProcess.Run("read", "--json", fifo);
        Assert.True(feeder.Join(TimeSpan.FromSeconds(30)));
        Assert.True(run.ExitCode == 0, run.StdErr);
        var expected = Events(SensorProcess.Run("read", "--json", file));
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Events(run));
    }

    [Fact]
    public void AShellProcessSubstitutionIsReadAsAPipe()
    {
        var expected = Events(SensorProcess.Run("read", "--json", Classic));
        var run = ExternalProcess.RunToEnd("bash",
            ["-c", "exec \"$0\" read --json <(cat \"$1\")", RepoPaths.SensorExecutable, Classic], TimeSpan.FromMinutes(2));
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal(expected, run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => { var o = JsonNode.Parse(l)!.AsObject(); o.Remove("pcap_file"); return o.ToJsonString(); }).ToList());
    }

    [Fact]
    public void AnEmptyNamedPipeIsNoInput()
    {
        var fifo = Path.Combine(_dir, "empty-pipe");
        Assert.Equal(0, ExternalProcess.RunToEnd("mkfifo", [fifo], TimeSpan.FromSeconds(10)).Code);
        var closer = new Thread(() => { using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write); }) { IsBackground = true };
        closer.Start();
        var run = SensorProcess.Run("read", fifo);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(fifo + ": cannot read: empty input", run.StdErr);
    }

    [Fact]
    public void AnEmptyStandardInputIsNoInput()
    {
        var run = SensorProcess.RunWithInput([], "read", "-");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("-: cannot read: empty input", run.StdErr);
    }

    [Theory]
    [InlineData("port 110", "pop3")]
    [InlineData("dst port 143 or src port 143", "imap")]
    public void TheFilterLeavesOutWhatTcpdumpLeavesOut(string filter, string proto)
    {
        foreach (var threads in new[] { "1", "2" })
        {
            var run = SensorProcess.Run("read", "--json", "--threads", threads, "--filter", filter, Classic);
            Assert.Equal(0, run.ExitCode);
            var events = run.StdOutLines.Select(l => JsonNode.Parse(l)!).ToList();
            Assert.NotEmpty(events);
            Assert.All(events, e => Assert.Equal(proto, (string?)e["app_proto"]));
            Assert.Equal(SensorProcess.Run("read", "--json", Classic).StdOutLines.Count(l => JsonNode.Parse(l)!["app_proto"]!.GetValue<string>() == proto), events.Count);

            // The frames left out are exactly those tcpdump's own reading of the filter rejects.
            var (code, output, err) = ExternalProcess.RunToEnd("tcpdump", ["-nn", "-r", Classic, $"not ({filter})"], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, err);
            int rejected = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Contains($"filter '{filter}': {rejected} frames did not match and were not analysed", run.StdErr);
        }
    }

    [Fact]
    public void TheVersionIsTheBuildsGitDescription()
    {
        var run = SensorProcess.Run("--version");
        Assert.Equal(0, run.ExitCode);
        var (code, describe, _) = ExternalProcess.RunToEnd("git", ["-C", RepoPaths.Root, "describe", "--tags", "--always", "--match", "v[0-9]*"], TimeSpan.FromSeconds(10));
        Assert.Equal(0, code);
        // The build may have been made from a tree with changes since (then "-dirty" follows).
        Assert.StartsWith(describe.Trim().TrimStart('v'), run.StdOut.Trim());
    }
}
