using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Smtp;

/// <summary>
/// `sensor run` on the loopback while real clients (swaks, curl, Python smtplib) log in to a real
/// Postfix on a port that is not an SMTP default (found by its greeting): each cleartext SMTP AUTH
/// reaches the event log within one second, with the right mechanism and outcome.
/// </summary>
public sealed class SmtpLiveTests
{
    private const int Port = 10025;

    private sealed record Scenario(string Name, string File, string[] Args, int[] ExitCodes, string Mechanism, string Username, string Outcome);

    private static IEnumerable<Scenario> Scenarios()
    {
        var h = PostfixServer.Host;
        yield return new("swaks AUTH PLAIN", "swaks",
            ["--server", $"{h}:{Port}", "--from", "alice@sensor.test", "--to", "bob@example.org", "--auth", "PLAIN",
             "--auth-user", "alice", "--auth-password", "wonderland"], [0], "AUTH=PLAIN", "alice", "success");
        yield return new("curl AUTH=LOGIN", "curl",
            ["-s", "-S", "--noproxy", "*", "-m", "20", $"smtp://{h}:{Port}", "--mail-from", "bob@sensor.test", "--mail-rcpt", "bob@example.org",
             "-T", "/dev/null", "--login-options", "AUTH=LOGIN", "-u", "bob:builder"], [0], "AUTH=LOGIN", "bob", "success");
        yield return new("smtplib failed AUTH PLAIN", "python3",
            ["-c", $"import smtplib\ns=smtplib.SMTP('{h}',{Port}); s.ehlo()\ntry:\n s.auth('PLAIN', lambda c=None: '\\0alice\\0wrong')\nexcept smtplib.SMTPAuthenticationError: pass\ns.quit()"],
            [0], "AUTH=PLAIN", "alice", "failure");
    }

    [Fact]
    public void LiveSensorReportsEachSmtpLoginWithinASecond()
    {
        using var postfix = new PostfixServer(Port);
        using var sensor = new LiveSensor("lo", "--ports", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--log-level", "Information");
        Thread.Sleep(300);

        int expected = 0;
        foreach (var s in Scenarios())
        {
            var (code, _, err) = ExternalProcess.RunToEnd(s.File, s.Args, TimeSpan.FromSeconds(30));
            Assert.True(s.ExitCodes.Contains(code), $"{s.Name}: client failed ({code}): {err}");
            expected++;
            var waited = sensor.WaitForEvents(expected, TimeSpan.FromSeconds(5));
            var events = sensor.Events();
            Assert.True(events.Count >= expected, $"{s.Name}: no event after {waited.TotalMilliseconds:F0} ms; stderr: {sensor.Process.StdErr}");
            Assert.True(waited <= TimeSpan.FromSeconds(1), $"{s.Name}: event took {waited.TotalMilliseconds:F0} ms after the client had its answer");
            var e = events[expected - 1];
            Assert.Equal("auth", (string?)e["event_type"]);
            Assert.Equal("smtp", (string?)e["app_proto"]);
            Assert.Equal(s.Mechanism, (string?)e["auth"]!["mechanism"]);
            Assert.Equal(s.Username, (string?)e["auth"]!["username"]);
            Assert.Equal("cleartext", (string?)e["auth"]!["exposure"]);
            Assert.Equal(s.Outcome, (string?)e["auth"]!["outcome"]);
            Assert.Equal("[redacted]", (string?)e["auth"]!["secret"]);
        }
        Thread.Sleep(500);
        Assert.Equal(expected, sensor.Events().Count);
        Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(5)), "sensor did not stop within 5 s of SIGTERM");
        Assert.DoesNotContain("wonderland", File.ReadAllText(sensor.EventsPath));
    }
}
