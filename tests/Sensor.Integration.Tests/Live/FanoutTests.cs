using System.Globalization;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// Two sensors in one AF_PACKET fanout group on one veth share its connections: together they report
/// exactly what a third sensor capturing alone reports on the same traffic, no connection is reported
/// by both (the kernel's hash keeps both directions of a connection on one member), and each gets a
/// share. The traffic is real: clients in a namespace logging in to a real Dovecot across the veth.
/// </summary>
public sealed class FanoutTests
{
    private const int ImapPort = 10843;
    private const int Pop3Port = 10810;
    private const int Connections = 48;

    [Fact]
    public void TwoSensorsInOneFanoutGroupReportEachConnectionOnceAndTogetherWhatOneSensorAloneReports()
    {
        var tag = Random.Shared.Next(0x100000, 0x1000000).ToString("x6");
        var subnet = LinkLocalSubnet.Pick();
        string near = subnet.Near, far = subnet.Far;
        // A group id is per network namespace: random, so another run of this suite on the machine does not join it.
        var group = Random.Shared.Next(1000, 65000).ToString(CultureInfo.InvariantCulture);

        using var net = new TestNetwork(tag);
        TestNetwork.Cmd("ip", "addr", "add", $"{near}/30", "dev", net.Near);
        TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "addr", "add", $"{far}/30", "dev", net.Far);
        using var dovecot = new DovecotServer(ImapPort, Pop3Port, near);
        string[] common = ["--ports", $"{ImapPort},{Pop3Port}", "--workers", "1"];
        using var alone = new LiveSensor(net.Near, common);
        using var first = new LiveSensor(net.Near, [.. common, "--fanout-group", group]);
        using var second = new LiveSensor(net.Near, [.. common, "--fanout-group", group]);
        Assert.Contains($"capturing on {net.Near} (fanout group {group})", first.Process.StdErr);
        Thread.Sleep(300); // let the first reads start

        // Many connections from the namespace: IMAP and POP3, successes and failures, each on its own client port.
        var client = $$"""
            import imaplib, poplib
            for i in range({{Connections}}):
                user, password = ('bob', 'wrong') if i % 12 == 5 or i % 24 == 8 else ('alice', 'wonderland')  # Dovecot delays each failure 2 s: few
                if i % 2:
                    c = imaplib.IMAP4('{{near}}', {{ImapPort}})
                    try: c.login(user, password)
                    except imaplib.IMAP4.error: pass
                    c.logout()
                else:
                    c = poplib.POP3('{{near}}', {{Pop3Port}})
                    c.user(user)
                    try: c.pass_(password)
                    except poplib.error_proto: pass
                    c.quit()
            """;
        var (code, _, err) = ExternalProcess.RunToEnd("ip", ["netns", "exec", net.Namespace, "python3", "-c", client], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, "client failed: " + err);

        alone.WaitForEvents(Connections, TimeSpan.FromSeconds(10));
        var until = DateTime.UtcNow.AddSeconds(10);
        while (first.Events().Count + second.Events().Count < Connections && DateTime.UtcNow < until) Thread.Sleep(20);
        Thread.Sleep(500); // a duplicate would come now

        var reference = Logins(alone);
        Assert.True(reference.Count == Connections, $"the sensor alone reported {reference.Count} of {Connections} logins: {alone.Process.StdErr}");
        var (a, b) = (Logins(first), Logins(second));
        Assert.True(a.Count > 0 && b.Count > 0, $"the hash gave one member everything: {a.Count} and {b.Count}");
        Assert.Empty(a.Select(Connection).Intersect(b.Select(Connection))); // no connection split or doubled
        Assert.Equal(reference.Order(StringComparer.Ordinal), a.Concat(b).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MembersRejoinTheirGroupWhenTheInterfaceComesBack()
    {
        // The interface is deleted under both members and made again (a new device): each reopens it
        // and joins the group again, instead of failing on the group of the device that is gone.
        var tag = Random.Shared.Next(0x100000, 0x1000000).ToString("x6");
        var group = Random.Shared.Next(1000, 65000).ToString(CultureInfo.InvariantCulture);
        var work = Directory.CreateTempSubdirectory("sensor-fanout-").FullName;
        try
        {
            var login = TestNetwork.RewriteToLoopback(Path.Combine(RepoPaths.Pcaps, "crafted", "pop3-user-pass.pcap"), work);
            using var net = new TestNetwork(tag);
            using var first = new LiveSensor(net.Near, "--fanout-group", group, "--workers", "1");
            using var second = new LiveSensor(net.Near, "--fanout-group", group, "--workers", "1");
            Thread.Sleep(300);
            net.Replay(login);
            Assert.Equal(1, WaitForTotal(first, second, 1));

            net.DeleteLink();
            Thread.Sleep(1500);
            net.CreateLink();
            foreach (var member in new[] { first, second })
                Assert.True(member.Process.WaitForStdErr("capture resumed", TimeSpan.FromSeconds(40)), member.Process.StdErr);
            Thread.Sleep(300);
            net.Replay(login);
            Assert.Equal(2, WaitForTotal(first, second, 2)); // once more, by one member: not twice, not lost

            foreach (var member in new[] { first, second })
            {
                Assert.True(member.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(5)));
                Assert.True(member.Process.ExitCode == 0, member.Process.StdErr);
            }
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>Waits until the two members together have <paramref name="count"/> events (or 5 s pass), then a little for a duplicate; returns their total.</summary>
    private static int WaitForTotal(LiveSensor a, LiveSensor b, int count)
    {
        var until = DateTime.UtcNow.AddSeconds(5);
        while (a.Events().Count + b.Events().Count < count && DateTime.UtcNow < until) Thread.Sleep(20);
        Thread.Sleep(500);
        return a.Events().Count + b.Events().Count;
    }

    [Fact]
    public void AGroupHeldInAnotherModeIsOneClearSentenceAndExitCodeFour()
    {
        var group = Random.Shared.Next(1000, 65000);
        // Another program holding the id in round-robin mode (PACKET_FANOUT_LB = 1), on the loopback: it sends nothing.
        using var holder = new ExternalProcess("python3", ["-c",
            "import socket, sys, time\n" +
            "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); s.bind(('lo', 0))\n" +
            $"s.setsockopt(263, 18, {group} | (1 << 16)); print('held', flush=True); time.sleep(60)"]);
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!holder.StdOut.Contains("held", StringComparison.Ordinal) && !holder.HasExited && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.True(holder.StdOut.Contains("held", StringComparison.Ordinal), "could not hold the group: " + holder.StdErr);

        var run = SensorProcess.Run("run", "--interface", "lo", "--fanout-group", group.ToString(CultureInfo.InvariantCulture), "--events", "-");
        Assert.Equal(4, run.ExitCode);
        Assert.Equal($"sensor: cannot join fanout group {group} on 'lo': the group exists with another mode or on another interface " +
            "(a group id is per network namespace: each interface needs its own, and another program may hold this one), or the interface is down",
            run.StdErr.Trim());
    }

    /// <summary>A login as "client port, server port, protocol, user, outcome": one per connection.</summary>
    private static List<string> Logins(LiveSensor sensor) =>
        sensor.Events().Where(e => (string?)e["event_type"] == "auth").Select(e =>
            $"{e["src_port"]} {e["dest_port"]} {e["app_proto"]} {e["auth"]!["username"]} {e["auth"]!["outcome"]}").ToList();

    private static string Connection(string login) => login[..login.IndexOf(' ', login.IndexOf(' ') + 1)];
}
