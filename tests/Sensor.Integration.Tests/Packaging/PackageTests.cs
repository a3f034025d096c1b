using System.Text.RegularExpressions;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Packaging;

/// <summary>
/// The .deb that `make package` builds, unpacked as dpkg would (its maintainer scripts are never run
/// here: they would add a user to this machine), and `make install`. One package build, a minute or
/// two, serves every test of the class. Run alone: a publish keeps both cores of the test machine
/// busy, which would starve the live-capture and timing tests running beside it.
/// </summary>
[Collection(nameof(PackageBuild))]
public sealed class PackageTests(PackageTests.BuiltPackage package) : IClassFixture<PackageTests.BuiltPackage>
{
    private const string Capture = "pcaps/dovecot/imap-login-atom.pcap";

    [Fact]
    public void PackageIsNamedForItsDebianVersionAndDependsOnLibpcap()
    {
        var version = package.Field("Version");
        Assert.Matches(@"^[0-9][A-Za-z0-9.+~]*$", version);
        Assert.Equal($"mail-sensor_{version}_amd64.deb", Path.GetFileName(package.Deb));
        Assert.Equal("mail-sensor", package.Field("Package"));
        Assert.Equal("amd64", package.Field("Architecture"));
        Assert.Contains("libpcap0.8", package.Field("Depends").Split(',', StringSplitOptions.TrimEntries));
        Assert.NotEmpty(package.Field("Maintainer"));
        Assert.NotEmpty(package.Field("Description"));
    }

    [Fact]
    public void PackageHoldsTheBinaryTheUnitTheConffileAndTheReadme()
    {
        var listing = Run("dpkg-deb", "-c", package.Deb).Out;
        Assert.Matches(@"(?m)^-rwxr-xr-x root/root .* \./usr/bin/sensor$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./lib/systemd/system/mail-sensor\.service$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./etc/mail-sensor/sensor\.json$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./usr/share/doc/mail-sensor/README\.md$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./lib/systemd/system/mail-sensor@\.service$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./usr/share/doc/mail-sensor/docs/live-capture\.md$", listing);
        Assert.Matches(@"(?m)^-rw-r--r-- root/root .* \./usr/share/doc/mail-sensor/docs/tunnels\.md$", listing); // the pages the README links to
        Assert.Equal("/etc/mail-sensor/sensor.json", Run("dpkg-deb", "-I", package.Deb, "conffiles").Out.Trim());
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "sensor.json")),
            File.ReadAllText(Path.Combine(package.Root, "etc/mail-sensor/sensor.json")));
    }

    [Fact]
    public void UnitRunsThePackagedBinaryWithOnlyItsCapabilitiesAndAPrivateUmask()
    {
        var unit = File.ReadAllLines(Path.Combine(package.Root, "lib/systemd/system/mail-sensor.service"));
        var exec = Assert.Single(unit, l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        Assert.Equal("ExecStart=/usr/bin/sensor run --config /etc/mail-sensor/sensor.json", exec);
        Assert.True(File.Exists(Path.Combine(package.Root, "usr/bin/sensor")));
        var doc = Assert.Single(unit, l => l.StartsWith("Documentation=", StringComparison.Ordinal));
        Assert.Equal("Documentation=file:///usr/share/doc/mail-sensor/README.md", doc);
        Assert.True(File.Exists(Path.Combine(package.Root, "usr/share/doc/mail-sensor/README.md")));
        Assert.Contains("UMask=0027", unit);
        Assert.Contains("User=mail-sensor", unit);
        Assert.Contains("AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN", unit);
        Assert.Contains("CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN", unit);
    }

    [Fact]
    public void MaintainerScriptsAreValidShellAndStartNothing()
    {
        var control = Path.Combine(package.Dir, "control");
        Run("dpkg-deb", "-e", package.Deb, control);
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            var path = Path.Combine(control, script);
            Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, script + " is not executable");
            var check = Run("sh", "-n", path);
            Assert.True(check.Code == 0, $"{script}: {check.Err}");
        }
        var postinst = File.ReadAllText(Path.Combine(control, "postinst"));
        Assert.Matches(@"adduser --system|useradd --system", postinst);
        Assert.Contains("-m 0750", postinst);
        Assert.DoesNotMatch(@"(?m)^\s*systemctl\s+(enable|start|restart)\b", postinst);
        Assert.DoesNotContain("setcap", postinst);
        // The user's data goes on purge only: every removal sits in the purge branch.
        var postrm = File.ReadAllText(Path.Combine(control, "postrm"));
        var purge = Regex.Match(postrm, @"(?s)\n\s*purge\)(.*?);;").Groups[1].Value;
        Assert.Contains("rm -rf /var/log/mail-sensor /var/lib/mail-sensor", purge);
        Assert.Single(Regex.Matches(postrm, @"rm -rf"));
    }

    [Fact]
    public void UnpackedSensorRunsWithNoDotnetVisible()
    {
        // The namespace really hides .NET: the framework-dependent build cannot start in it.
        var frameworkDependent = RunWithoutDotnet(RepoPaths.SensorExecutable, "--version");
        Assert.NotEqual(0, frameworkDependent.Code);

        var sensor = Path.Combine(package.Root, "usr/bin/sensor");
        var version = RunWithoutDotnet(sensor, "--version");
        Assert.True(version.Code == 0, version.Err);
        Assert.Equal(DebianVersionOf(version.Out.Trim()), package.Field("Version"));

        var capture = Path.Combine(RepoPaths.Root, Capture);
        var read = RunWithoutDotnet(sensor, "read", "--json", capture);
        Assert.True(read.Code == 0, read.Err);
        var expected = SensorProcess.Run("read", "--json", capture);
        Assert.Equal(0, expected.ExitCode);
        Assert.Contains("\"username\":\"alice\"", expected.StdOut.Replace(" ", ""));
        Assert.Equal(expected.StdOutLines, read.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// src/Sensor/Native/hydrated_hugepages.c, linked into the binary: before the runtime starts it asks
    /// for transparent huge pages (MADV_HUGEPAGE) for the data the runtime writes at start, which cut
    /// the start-up where page faults are dear (docs/performance.md). The kernel marks an advised
    /// mapping "hg" in /proc/PID/smaps whatever its transparent_hugepage setting. The whole .hydrated
    /// section must lie in one advised mapping: only then is none of it left to 4 KiB pages before the
    /// first or after the last 2 MiB boundary (the file aligns the section for that; before it, on
    /// average 2.4 MB of it was). The sensor is held alive reading a named pipe nobody writes to yet.
    /// </summary>
    [Fact]
    public void PackagedSensorAsksForHugePagesForAllTheDataItsRuntimeWritesAtStart()
    {
        var binary = Path.Combine(package.Root, "usr/bin/sensor");
        var (hydratedAddress, hydratedSize) = Section(binary, ".hydrated");
        Assert.True(hydratedSize > 1 << 20, $".hydrated is only {hydratedSize} bytes");
        Assert.True(hydratedAddress % (2 << 20) == 0, $".hydrated starts at 0x{hydratedAddress:x}, not on a 2 MiB boundary");

        var fifo = Path.Combine(package.Dir, "held-open");
        Assert.Equal(0, Run("mkfifo", fifo).Code);
        using var sensor = new ExternalProcess(binary, ["read", fifo]);
        List<Mapping> advised = [];
        ulong loadBase = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (advised.Count == 0 && !sensor.HasExited && DateTime.UtcNow < until)
        {
            try
            {
                (loadBase, advised) = AdvisedMappings($"/proc/{sensor.Pid}/smaps", binary);
            }
            catch (IOException) { } // between exec and the first look the file may not be there yet
            if (advised.Count == 0) Thread.Sleep(50);
        }
        // Let it go: an empty pipe is "empty input", exit code 1.
        using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }
        Assert.True(sensor.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.True(advised.Count > 0, "no mapping of the packaged sensor is advised for huge pages");
        Assert.Equal(1, sensor.ExitCode);
        ulong first = loadBase + hydratedAddress, last = first + hydratedSize;
        Assert.True(advised.Any(m => m.Start <= first && last <= m.End),
            $".hydrated at 0x{first:x}-0x{last:x} is not inside one advised mapping: " +
            string.Join(", ", advised.Select(m => $"0x{m.Start:x}-0x{m.End:x}")));
    }

    private sealed record Mapping(ulong Start, ulong End);

    /// <summary>A section's address (relative to the load base) and size, as readelf gives them.</summary>
    private static (ulong Address, ulong Size) Section(string binary, string name)
    {
        var sections = Run("readelf", "-SW", binary);
        Assert.True(sections.Code == 0, sections.Err);
        //   [35] .hydrated         NOBITS          0000000001400000 1400000 600000 00  WA  0   0 2097152
        var row = Regex.Match(sections.Out, $@"\]\s+{Regex.Escape(name)}\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s");
        Assert.True(row.Success, $"no section {name} in:\n{sections.Out}");
        return (Convert.ToUInt64(row.Groups[1].Value, 16), Convert.ToUInt64(row.Groups[2].Value, 16));
    }

    /// <summary>
    /// From /proc/PID/smaps: where the program was loaded (its mapping at file offset 0) and the
    /// mappings marked "hg" (MADV_HUGEPAGE).
    /// </summary>
    private static (ulong LoadBase, List<Mapping> Advised) AdvisedMappings(string smaps, string binary)
    {
        ulong loadBase = 0;
        Mapping? current = null;
        var advised = new List<Mapping>();
        foreach (var line in File.ReadLines(smaps))
        {
            var header = Regex.Match(line, @"^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s*(.*)$");
            if (header.Success)
            {
                current = new Mapping(Convert.ToUInt64(header.Groups[1].Value, 16), Convert.ToUInt64(header.Groups[2].Value, 16));
                if (loadBase == 0 && header.Groups[4].Value == binary && Convert.ToUInt64(header.Groups[3].Value, 16) == 0)
                    loadBase = current.Start;
            }
            else if (current is not null && line.StartsWith("VmFlags:", StringComparison.Ordinal) && line.Split(' ').Contains("hg"))
                advised.Add(current);
        }
        return (loadBase, advised);
    }

    /// <summary>
    /// src/Sensor/Native/closed_stdin.c: started with standard input closed, `read -` found the runtime's
    /// own pipe on descriptor 0 and waited on it for ever. Now it reads /dev/null: empty input, exit 1.
    /// </summary>
    [Fact]
    public void PackagedSensorStartedWithStdinClosedReadsNoInputInsteadOfWaiting()
    {
        var sensor = Path.Combine(package.Root, "usr/bin/sensor");
        var run = ExternalProcess.RunToEnd("bash", ["-c", "exec \"$0\" read - <&-", sensor], TimeSpan.FromSeconds(60));
        Assert.True(run.Code == 1, $"exit {run.Code}:\n{run.Err}");
        Assert.Contains("-: cannot read: empty input", run.Err);
    }

    [Fact]
    public void MakeInstallPutsEverythingUnderThePrefixAndKeepsAnEditedConfig()
    {
        var destdir = Path.Combine(package.Dir, "install-root");
        var make = MakeInstall(destdir);
        Assert.True(make.Code == 0, make.Out + make.Err);

        var prefix = Path.Combine(destdir, "usr/local");
        var binary = Path.Combine(prefix, "bin/sensor");
        Assert.True((File.GetUnixFileMode(binary) & UnixFileMode.OtherExecute) != 0);
        Assert.Equal(new FileInfo(Path.Combine(package.Root, "usr/bin/sensor")).Length, new FileInfo(binary).Length);
        var unit = File.ReadAllLines(Path.Combine(prefix, "lib/systemd/system/mail-sensor.service"));
        Assert.Contains("ExecStart=/usr/local/bin/sensor run --config /usr/local/etc/mail-sensor/sensor.json", unit);
        Assert.Contains("Documentation=file:///usr/local/share/doc/mail-sensor/README.md", unit);
        Assert.Contains("UMask=0027", unit);
        Assert.True(File.Exists(Path.Combine(prefix, "share/doc/mail-sensor/README.md")));
        var template = File.ReadAllLines(Path.Combine(prefix, "lib/systemd/system/mail-sensor@.service"));
        Assert.Contains("ExecStart=/usr/local/bin/sensor run --config /usr/local/etc/mail-sensor/sensor.json", template);
        Assert.Contains("EnvironmentFile=-/usr/local/etc/mail-sensor/fanout-%i.env", template);
        Assert.Contains("Documentation=file:///usr/local/share/doc/mail-sensor/docs/live-capture.md", template);
        Assert.True(File.Exists(Path.Combine(prefix, "share/doc/mail-sensor/docs/live-capture.md")));
        Assert.True(File.Exists(Path.Combine(prefix, "share/doc/mail-sensor/docs/tunnels.md"))); // every page the README links to
        var config = Path.Combine(prefix, "etc/mail-sensor/sensor.json");
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "sensor.json")), File.ReadAllText(config));

        File.WriteAllText(config, "{ \"Name\": \"edited\" }");
        make = MakeInstall(destdir);
        Assert.True(make.Code == 0, make.Out + make.Err);
        Assert.Equal("{ \"Name\": \"edited\" }", File.ReadAllText(config));
    }

    /// <summary>`make install` with the binary the fixture published (NO_PUBLISH), so it takes seconds.</summary>
    private (int Code, string Out, string Err) MakeInstall(string destdir) =>
        Run("env", "ARTIFACTS=" + package.Artifacts, "NO_PUBLISH=1",
            "make", "-C", RepoPaths.Root, "--no-print-directory", "install", "DESTDIR=" + destdir, "PREFIX=/usr/local");

    /// <summary>
    /// Runs the unpacked binary in a mount namespace where the .NET installation is an empty tmpfs, with
    /// an environment that names no .NET either: what a host without .NET offers it.
    /// </summary>
    private static (int Code, string Out, string Err) RunWithoutDotnet(string file, params string[] args)
    {
        const string hide =
            "set -e; for d in /usr/share/dotnet /usr/lib/dotnet /usr/local/share/dotnet; do " +
            "if [ -d \"$d\" ]; then mount -t tmpfs -o size=1m none \"$d\"; fi; done; " +
            "if [ -e /usr/share/dotnet/dotnet ] || command -v dotnet >/dev/null 2>&1; then echo 'dotnet still visible' >&2; exit 99; fi; " +
            "exec \"$@\"";
        return Run("unshare", ["--mount", "--propagation", "private", "--",
            "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
            "sh", "-c", hide, "sh", file, .. args]);
    }

    /// <summary>
    /// `sensor --version` is git describe without the v (0.5.0-34-gd5b6981[-dirty]); the package's is
    /// 0.5.0+34.gd5b6981[.dirty], as scripts/package.sh derives it.
    /// </summary>
    private static string DebianVersionOf(string describe)
    {
        var hash = Regex.Match(describe, @"^([0-9a-f]{7,40})(-dirty)?$"); // no tag reachable
        if (hash.Success) return $"0.0.0+g{hash.Groups[1].Value}{(hash.Groups[2].Success ? ".dirty" : "")}";
        var m = Regex.Match(describe, @"^([0-9][0-9A-Za-z.]*)(?:-([0-9]+)-(g[0-9a-f]+))?(-dirty)?$");
        Assert.True(m.Success, "unexpected --version: " + describe);
        var v = m.Groups[1].Value;
        if (m.Groups[2].Success) v += $"+{m.Groups[2].Value}.{m.Groups[3].Value}";
        if (m.Groups[4].Success) v += m.Groups[2].Success ? ".dirty" : "+dirty";
        return v;
    }

    private static (int Code, string Out, string Err) Run(string file, params string[] args) =>
        ExternalProcess.RunToEnd(file, args, TimeSpan.FromMinutes(2));

    /// <summary>`scripts/package.sh deb` (what `make package` runs) into a temporary ARTIFACTS, unpacked once.</summary>
    public sealed class BuiltPackage : IDisposable
    {
        private readonly Dictionary<string, string> _fields = new();

        public BuiltPackage()
        {
            Dir = Directory.CreateTempSubdirectory("sensor-package-").FullName;
            Artifacts = Path.Combine(Dir, "artifacts");
            var script = Path.Combine(RepoPaths.Root, "scripts", "package.sh");
            // A publish on a busy 2-core machine has taken two minutes; allow well beyond that.
            using var build = new ExternalProcess("env", ["ARTIFACTS=" + Artifacts, script, "deb"], RepoPaths.Root);
            if (!build.WaitForExit(TimeSpan.FromMinutes(10))) throw new TimeoutException("package.sh deb did not finish");
            if (build.ExitCode != 0) throw new InvalidOperationException($"package.sh deb failed ({build.ExitCode}):\n{build.StdErr}");
            Deb = build.StdOut.Trim().Split('\n')[^1];
            Assert.True(File.Exists(Deb), "no package at " + Deb);
            Root = Path.Combine(Dir, "root");
            Directory.CreateDirectory(Root);
            var x = Run("dpkg-deb", "-x", Deb, Root);
            Assert.True(x.Code == 0, x.Err);
        }

        /// <summary>Temporary directory of this build; the package's files are under <see cref="Root"/>.</summary>
        public string Dir { get; }
        public string Artifacts { get; }
        public string Deb { get; }
        public string Root { get; }

        public string Field(string name)
        {
            lock (_fields)
            {
                if (!_fields.TryGetValue(name, out var value))
                {
                    var r = Run("dpkg-deb", "-f", Deb, name);
                    Assert.True(r.Code == 0, r.Err);
                    _fields[name] = value = r.Out.Trim();
                }
                return value;
            }
        }

        public void Dispose()
        {
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        }
    }
}

[CollectionDefinition(nameof(PackageBuild), DisableParallelization = true)]
public sealed class PackageBuild;
