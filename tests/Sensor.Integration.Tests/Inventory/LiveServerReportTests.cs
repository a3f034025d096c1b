using System.Globalization;
using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Inventory;

/// <summary>
/// `sensor run` reports its server inventory every Inventory:IntervalSeconds of capture time while
/// real clients log in to a real Dovecot on loopback, and once more at stop; the reports carry what
/// the logins were, and with a home net every login its direction and every server whether it is inside.
/// </summary>
public sealed class LiveServerReportTests
{
    private const int ImapPort = 10743;
    private const int Pop3Port = 10710;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TheInventoryIsReportedEveryIntervalOfCaptureTimeAndAtStop(int workers)
    {
        using var dovecot = new DovecotServer(ImapPort, Pop3Port);
        using var sensor = new LiveSensor("lo", new Dictionary<string, string> { ["SENSOR_Inventory__IntervalSeconds"] = "2" },
            "--ports", $"{ImapPort},{Pop3Port}", "--workers", workers.ToString(CultureInfo.InvariantCulture), "--home-net", "127.0.0.1/32");
        Thread.Sleep(300); // libpcap is attached once "capturing on" is logged; let the first read start

        var h = DovecotServer.Host;
        foreach (var code in new[]
        {
            $"import imaplib; c=imaplib.IMAP4('{h}',{ImapPort}); c.login('alice','wonderland'); c.logout()",
            $"import poplib\nc=poplib.POP3('{h}',{Pop3Port}); c.user('alice')\ntry:\n c.pass_('wrong')\nexcept poplib.error_proto: pass\nc.quit()",
        })
        {
            var (rc, _, err) = ExternalProcess.RunToEnd("python3", ["-c", code], TimeSpan.FromSeconds(30));
            Assert.True(rc == 0, err);
        }
        Assert.True(sensor.WaitForEvents(2, TimeSpan.FromSeconds(5)) < TimeSpan.FromSeconds(5), sensor.Process.StdErr);
        // Client and server on 127.0.0.1, the home net: an internal login each.
        Assert.All(sensor.Events(), e => Assert.Equal("internal", (string?)e["direction"]));

        // Two periodic reports of the IMAP server after its login, and one of the POP3 server after its
        // failed login (which Dovecot answers ~2 s late: IMAP reports may come before it), before any stop.
        List<JsonObject> Reports(int port) => sensor.ServerEvents().Where(e => (int)e["dest_port"]! == port && (long)e["server"]!["logins"]! == 1).ToList();
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((Reports(ImapPort).Count < 2 || Reports(Pop3Port).Count < 1) && DateTime.UtcNow < until) Thread.Sleep(100);
        var imap = Reports(ImapPort);
        Assert.True(imap.Count >= 2, $"{imap.Count} periodic reports of the IMAP server; stderr: {sensor.Process.StdErr}");
        Assert.False(sensor.Process.HasExited);
        var t0 = DateTime.Parse((string)imap[0]["timestamp"]!, CultureInfo.InvariantCulture).ToUniversalTime();
        var t1 = DateTime.Parse((string)imap[1]["timestamp"]!, CultureInfo.InvariantCulture).ToUniversalTime();
        Assert.InRange((t1 - t0).TotalSeconds, 2.0, 6.0); // one interval of capture time apart (a busy machine may be late, never early)

        var s = imap[^1]["server"]!;
        Assert.Equal("imap", (string?)imap[^1]["app_proto"]);
        Assert.True((bool)s["starttls_offered"]!);
        Assert.Equal(1, (long)s["cleartext_logins_accepted"]!);
        Assert.Equal(0, (long)s["logins_failed"]!);
        Assert.True((bool)s["inside"]!);
        Assert.Contains("AUTH=PLAIN", s["capabilities"]!.AsArray().Select(c => (string)c!));

        var pop3Reports = Reports(Pop3Port);
        Assert.True(pop3Reports.Count > 0, "no report of the POP3 server after its login among:\n" + string.Join("\n", sensor.AllEvents().Select(e => e.ToJsonString())));
        var pop3 = pop3Reports[^1]["server"]!;
        Assert.Equal((1L, 1L, 0L), ((long)pop3["logins"]!, (long)pop3["logins_failed"]!, (long)pop3["cleartext_logins_accepted"]!));

        int before = sensor.ServerEvents().Count;
        Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(10)), "sensor did not stop within 10 s of SIGTERM");
        Assert.Equal(0, sensor.Process.ExitCode);
        // The final report: both servers once more, in the inventory's fixed order (IMAP before POP3).
        var final = sensor.ServerEvents().Skip(before).ToList();
        Assert.True(final.Count >= 2, $"{final.Count} server events at stop");
        Assert.Equal([ImapPort, Pop3Port], final.TakeLast(2).Select(e => (int)e["dest_port"]!));
        Assert.DoesNotContain("wonderland", File.ReadAllText(sensor.EventsPath));
    }
}
