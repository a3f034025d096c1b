using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// `sensor run` on the loopback interface while real clients (curl, Python imaplib/poplib) log in to
/// a real Dovecot. Each login must reach the event log within one second of the client having its
/// answer, with the right outcome; a login inside STARTTLS must not appear; SIGTERM ends it cleanly.
/// </summary>
public sealed class LiveCaptureTests
{
    private const int ImapPort = 10143;
    private const int Pop3Port = 10110;

    private sealed record Scenario(string Name, string File, string[] Args, string EventType, string? Mechanism, string? Outcome, string AppProto);

    private static Scenario Python(string name, string code, string type, string? mech, string? outcome, string proto) =>
        new(name, "python3", ["-c", code], type, mech, outcome, proto);

    private static IEnumerable<Scenario> Scenarios()
    {
        var h = DovecotServer.Host;
        yield return Python("imaplib LOGIN", $"import imaplib; c=imaplib.IMAP4('{h}',{ImapPort}); c.login('alice','wonderland'); c.logout()",
            "auth", "LOGIN", "success", "imap");
        yield return Python("imaplib AUTHENTICATE PLAIN",
            $"import imaplib; c=imaplib.IMAP4('{h}',{ImapPort}); c.authenticate('PLAIN', lambda _: b'\\0bob\\0builder'); c.logout()",
            "auth", "AUTH=PLAIN", "success", "imap");
        yield return new("curl IMAP AUTH=PLAIN", "curl",
            ["-s", "-S", "--noproxy", "*", "-m", "20", "-o", "/dev/null", "-u", "alice:wonderland", "--login-options", "AUTH=PLAIN",
             $"imap://{h}:{ImapPort}/INBOX"], "auth", "AUTH=PLAIN", "success", "imap");
        yield return Python("poplib USER/PASS", $"import poplib; c=poplib.POP3('{h}',{Pop3Port}); c.user('alice'); c.pass_('wonderland'); c.quit()",
            "auth", "USER", "success", "pop3");
        yield return Python("poplib failed PASS",
            $"import poplib\nc=poplib.POP3('{h}',{Pop3Port}); c.user('alice')\ntry:\n c.pass_('wrong')\nexcept poplib.error_proto: pass\nc.quit()",
            "auth", "USER", "failure", "pop3");
        yield return new("curl POP3 AUTH=LOGIN", "curl",
            ["-s", "-S", "--noproxy", "*", "-m", "20", "-o", "/dev/null", "-u", "bob:builder", "--login-options", "AUTH=LOGIN",
             $"pop3://{h}:{Pop3Port}/"], "auth", "AUTH=LOGIN", "success", "pop3");
        yield return Python("imaplib STARTTLS then LOGIN inside TLS",
            $"import imaplib,ssl; x=ssl.create_default_context(); x.check_hostname=False; x.verify_mode=ssl.CERT_NONE\n" +
            $"c=imaplib.IMAP4('{h}',{ImapPort}); c.starttls(ssl_context=x); c.login('alice','wonderland'); c.logout()",
            "starttls", null, "success", "imap");
    }

    /// <param name="workers">1: the capture thread analyses; 2: connections shared by two analysis workers.</param>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LiveSensorReportsEachLoginWithinASecondAndStopsCleanly(int workers)
    {
        using var dovecot = new DovecotServer(ImapPort, Pop3Port);
        using var sensor = new LiveSensor("lo", "--ports", $"{ImapPort},{Pop3Port}", "--log-level", "Information",
            "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Thread.Sleep(300); // libpcap is attached once "capturing on" is logged; let the first read start

        int expected = 0;
        foreach (var s in Scenarios())
        {
            var (code, _, err) = ExternalProcess.RunToEnd(s.File, s.Args, TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"{s.Name}: client failed: {err}");
            expected++;
            var waited = sensor.WaitForEvents(expected, TimeSpan.FromSeconds(5));
            var events = sensor.Events();
            Assert.True(events.Count >= expected, $"{s.Name}: no event after {waited.TotalMilliseconds:F0} ms; stderr: {sensor.Process.StdErr}");
            Assert.True(waited <= TimeSpan.FromSeconds(1), $"{s.Name}: event took {waited.TotalMilliseconds:F0} ms after the client had its answer");
            var e = events[expected - 1];
            Assert.Equal(s.EventType, (string?)e["event_type"]);
            Assert.Equal(s.AppProto, (string?)e["app_proto"]);
            if (s.EventType == "auth")
            {
                Assert.Equal(s.Mechanism, (string?)e["auth"]!["mechanism"]);
                Assert.Equal(s.Outcome, (string?)e["auth"]!["outcome"]);
                Assert.Equal("[redacted]", (string?)e["auth"]!["secret"]);
            }
            else
            {
                Assert.Equal(s.Outcome, (string?)e["tls"]!["outcome"]);
            }
        }

        // Nothing more: in particular not the LOGIN sent inside TLS.
        Thread.Sleep(500);
        Assert.Equal(expected, sensor.Events().Count);

        var sw = Stopwatch.StartNew();
        Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(5)), "sensor did not stop within 5 s of SIGTERM");
        Assert.Equal(0, sensor.Process.ExitCode);
        Assert.Contains("capture stopped", sensor.Process.StdErr);
        Assert.DoesNotContain("wonderland", sensor.Process.StdErr);
        Assert.DoesNotContain("wonderland", File.ReadAllText(sensor.EventsPath));
    }

    [Fact]
    public void UnknownInterfaceIsOneClearSentenceAndExitCodeFour()
    {
        var run = SensorProcess.Run("run", "--interface", "no-such-if0", "--events", "-");
        Assert.Equal(4, run.ExitCode);
        Assert.Equal("sensor: no capture interface named 'no-such-if0' (see 'sensor interfaces')", run.StdErr.Trim());
    }

    [Fact]
    public void MissingCapturePermissionIsOneClearSentenceAndExitCodeFour()
    {
        // The same build run as an unprivileged user (no CAP_NET_RAW), as a misconfigured unit would.
        // Copied to a world-readable folder: the clone itself may sit under a private home directory.
        var bin = Path.GetDirectoryName(RepoPaths.SensorExecutable)!;
        var copy = Directory.CreateTempSubdirectory("sensor-unprivileged-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(bin)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            ExternalProcess.RunToEnd("chmod", ["-R", "a+rX", copy], TimeSpan.FromSeconds(10));
            File.SetUnixFileMode(Path.Combine(copy, "sensor"), (UnixFileMode)0b111_101_101);
            var (code, stdout, stderr) = ExternalProcess.RunToEnd("runuser",
                ["-u", "nobody", "--", Path.Combine(copy, "sensor"), "run", "--interface", "lo", "--events", "-"], TimeSpan.FromSeconds(60));
            Assert.Equal(4, code);
            Assert.Equal("", stdout);
            Assert.StartsWith("sensor: permission denied opening 'lo': capturing needs CAP_NET_RAW", stderr.Trim());
        }
        finally { Directory.Delete(copy, true); }
    }

    [Fact]
    public void RunWithoutInterfaceIsAUsageError()
    {
        var run = SensorProcess.Run("run", "--events", "-");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no interface given", run.StdErr);
    }

    [Fact]
    public void InterfacesListsTheLoopback()
    {
        var run = SensorProcess.Run("interfaces");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(run.StdOutLines, l => l.StartsWith("lo ", StringComparison.Ordinal) && l.Contains("(loopback)"));
    }
}
