using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Robustness;

/// <summary>
/// What a probe of the command line with hostile inputs found (2026-12-02), each now one clear line
/// and a defined exit code: settings that passed their checks and then crashed the read, a report
/// renamed over a device node, folder scans that stopped at an unreadable folder or hung on a named
/// pipe, output failures of help and version reported as internal errors.
/// </summary>
public sealed class HostileInvocationTests : IDisposable
{
    private static readonly string Capture = Path.Combine(RepoPaths.Pcaps, "crafted", "pop3-user-pass.pcap");
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static void AssertOneLine(SensorProcess.Result run, int exit, string text)
    {
        Assert.True(run.ExitCode == exit, $"exit {run.ExitCode}, expected {exit}:\n{run.StdErr}");
        Assert.Contains(text, run.StdErr);
        Assert.DoesNotContain("Exception", run.StdErr);
        Assert.DoesNotContain("   at ", run.StdErr);
    }

    [Theory]
    [InlineData("SENSOR_Guessing__Failures", "2147483647", "Guessing:Failures must be between 1 and 1000")] // an 8 GB array per client before
    [InlineData("SENSOR_Guessing__SprayUsernames", "1001", "Guessing:SprayUsernames must be between 1 and 1000")]
    [InlineData("SENSOR_Reassembly__IdleTimeoutSeconds", "0", "Reassembly:IdleTimeoutSeconds must be at least 1")]
    [InlineData("SENSOR_LogLevel", "Trace", "(Verbose, Debug, Information, Warning, Error or Fatal)")]
    public void ASettingOutOfRangeIsNamedAlone(string variable, string value, string message)
    {
        var run = SensorProcess.Run(new Dictionary<string, string> { [variable] = value }, "read", Capture);
        AssertOneLine(run, 2, message);
        Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("""{"Site":{"HomeNetworks":[null]}}""", "Site:HomeNetworks: an entry is empty")] // a NullReferenceException before
    [InlineData("""{"Site":{"HomeNetworks":["143"]}}""", "'143' is not an address or CIDR prefix")] // taken as 0.0.0.143 before
    [InlineData("""{"Site":{"HomeNetworks":["10.1"]}}""", "'10.1' is not an address or CIDR prefix")]
    [InlineData("""{"Guessing": {"Failures": 10,, }}""", "LineNumber: 0")] // the JSON error itself, not only "failed to load"
    public void ABadConfigFileSaysWhatIsWrongInIt(string json, string message)
    {
        var config = Path.Combine(_dir, "sensor.json");
        File.WriteAllText(config, json);
        AssertOneLine(SensorProcess.Run("read", "--config", config, Capture), 2, message);
    }

    /// <summary>
    /// A name in Latin-1 ("caf\xE9.pcap"): .NET makes the bytes a string with U+FFFD for the 0xE9, which
    /// names no file, so the sensor cannot open it; it said "no such file or folder" about a file the user
    /// sees in ls, and "removed meanwhile" in a folder scan. Now it says why.
    /// </summary>
    [Fact]
    public void AFileNameThatIsNotUtf8IsSaidToBeSoRatherThanMissing()
    {
        const string Script = """
            cp "$1" "$2/caf"$'\xe9'".pcap" || exit 99
            "$0" read --no-summary "$2/caf"$'\xe9'".pcap"; echo "exit $?" >&2
            "$0" read --no-summary "$2"; echo "exit $?" >&2
            rm -f "$2/caf"$'\xe9'".pcap"
            """;
        var run = ExternalProcess.RunToEnd("bash", ["-c", Script, RepoPaths.SensorExecutable, Capture, _dir], TimeSpan.FromMinutes(1));
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 4, run.Err);
        foreach (var problem in new[] { lines[0], lines[2] })
            Assert.EndsWith("its name is not valid UTF-8, and this program can open only UTF-8 names: rename it (convmv(1)) or give a link to it with a UTF-8 name", problem);
        Assert.Equal("exit 1", lines[1]);
        Assert.Equal("exit 1", lines[3]);
    }

    [Fact]
    public void AFolderOnStandardInputIsNoInput()
    {
        var run = ExternalProcess.RunToEnd("bash", ["-c", "exec \"$0\" read - < \"$1\"", RepoPaths.SensorExecutable, _dir], TimeSpan.FromMinutes(1));
        Assert.True(run.Code == 1, run.Err);
        Assert.Contains("-: cannot read: Is a directory", run.Err);
        Assert.DoesNotContain("Exception", run.Err);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("--version")]
    [InlineData("interfaces")]
    public void AFullStandardOutputIsAnOutputFailureNotAnInternalError(string command)
    {
        var run = ExternalProcess.RunToEnd("bash", ["-c", "exec \"$0\" \"$1\" > /dev/full", RepoPaths.SensorExecutable, command], TimeSpan.FromMinutes(1));
        Assert.True(run.Code == 3, $"exit {run.Code}:\n{run.Err}");
        Assert.Contains("sensor: cannot write to standard output: No space left on device", run.Err);
        Assert.DoesNotContain("Exception", run.Err);
    }

    [Fact]
    public void AReportOntoADeviceWritesIntoItAndLeavesItADevice()
    {
        // A copy of /dev/null's node: as root the old code renamed a regular file over /dev/null itself.
        var device = Path.Combine(_dir, "null");
        Assert.Equal(0, ExternalProcess.RunToEnd("mknod", ["-m", "666", device, "c", "1", "3"], TimeSpan.FromSeconds(10)).Code);
        var run = SensorProcess.Run("read", "--no-summary", "--report", device, Capture);
        Assert.True(run.ExitCode == 0, run.StdErr);
        var stat = ExternalProcess.RunToEnd("stat", ["-c", "%F %t,%T", device], TimeSpan.FromSeconds(10));
        Assert.Equal("character special file 1,3", stat.Out.Trim());
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));
    }

    [Fact]
    public void AReportOntoALinkReplacesTheFileItPointsToAndKeepsTheLink()
    {
        var target = Path.Combine(_dir, "target.html");
        File.WriteAllText(target, "old");
        var link = Path.Combine(_dir, "link.html");
        File.CreateSymbolicLink(link, "target.html");
        var run = SensorProcess.Run("read", "--no-summary", "--report", link, Capture);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Equal("target.html", new FileInfo(link).LinkTarget);
        Assert.Contains("<html", File.ReadAllText(target));
    }

    [Fact]
    public void AFolderScanSkipsANamedPipeInsteadOfWaitingOnIt()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "captures")).FullName;
        File.Copy(Capture, Path.Combine(folder, "a.pcap"));
        var pipe = Path.Combine(folder, "b.pcap");
        Assert.Equal(0, ExternalProcess.RunToEnd("mkfifo", [pipe], TimeSpan.FromSeconds(10)).Code);
        var run = ExternalProcess.RunToEnd(RepoPaths.SensorExecutable, ["read", "--json", "--no-summary", folder], TimeSpan.FromSeconds(60));
        Assert.True(run.Code == 0, run.Err); // a hang ends in the timeout: RunToEnd kills it and this fails
        Assert.Contains(pipe + ": skipped in the folder scan: a named pipe", run.Err);
        Assert.Contains("\"username\":\"", run.Out);
    }

    [Fact]
    public void AFolderThatCannotBeSearchedIsAProblemOfItsOwnAndTheRestIsRead()
    {
        // A subtree deeper than PATH_MAX (made with relative paths): listing it fails. Before, the
        // whole read stopped there with an internal error and even the files named first went unread.
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "deep")).FullName;
        File.Copy(Capture, Path.Combine(folder, "a.pcap"));
        var make = ExternalProcess.RunToEnd("python3", ["-c",
            "import os,sys\nos.chdir(sys.argv[1])\nfor i in range(25):\n    os.makedirs('d'*200, exist_ok=True); os.chdir('d'*200)\nopen('x.pcap','wb').write(open(sys.argv[2],'rb').read())",
            folder, Capture], TimeSpan.FromSeconds(30));
        try
        {
            Assert.True(make.Code == 0, make.Err);
            var run = SensorProcess.Run("read", "--json", "--no-summary", Capture, folder);
            Assert.True(run.ExitCode == 0, run.StdErr);
            Assert.Contains("its path is too long", run.StdErr);
            Assert.DoesNotContain("Exception", run.StdErr);
            var alone = SensorProcess.Run("read", "--json", "--no-summary", Capture);
            // The capture named first and the readable one in the folder: twice its events.
            Assert.Equal(2 * alone.StdOutLines.Length, run.StdOutLines.Length);
        }
        finally
        {
            // The tree has to be removed from the inside: its paths are too long to name.
            ExternalProcess.RunToEnd("python3", ["-c", "import shutil,os,sys\nos.chdir(sys.argv[1])\nshutil.rmtree('d'*200, ignore_errors=True)", folder], TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void AFileNameWithControlCharactersIsShownEscaped()
    {
        // A newline split the "one line" message; ESC sequences reached the analyst's terminal.
        var file = Path.Combine(_dir, "bad\nname\u001b[2J.pcap");
        File.WriteAllText(file, "not a capture");
        var run = SensorProcess.Run("read", "--json", file); // the summary on stderr too
        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain('\u001b', run.StdErr);
        Assert.Contains("bad\\nname\\e[2J.pcap: cannot read:", run.StdErr);
        Assert.Contains("problem: " + _dir + "/bad\\nname\\e[2J.pcap:", run.StdErr);
    }

    [Fact]
    public void APathOverPathMaxIsSaidToBeTooLong()
    {
        var path = "/" + string.Join('/', Enumerable.Repeat(new string('d', 200), 25)) + "/x.pcap";
        var run = SensorProcess.Run("read", path);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("path too long to open", run.StdErr); // it said "no such file or folder"
    }

    [Fact]
    public void DamagedGzipDataIsCalledThat()
    {
        var bytes = File.ReadAllBytes(Capture);
        using var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest)) gz.Write(bytes);
        var data = ms.ToArray();
        for (int i = 20; i < 60; i++) data[i] ^= 0xFF; // inside the deflate data
        var file = Path.Combine(_dir, "bad.pcap.gz");
        File.WriteAllBytes(file, data);
        var run = SensorProcess.Run("read", "--no-summary", file);
        Assert.True(run.StdErr.Contains("damaged gzip data (corrupt or cut short)", StringComparison.Ordinal), run.StdErr);
        Assert.DoesNotContain("unsupported compression method", run.StdErr);
    }
}
