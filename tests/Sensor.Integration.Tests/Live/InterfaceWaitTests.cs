using System.Net.Sockets;
using System.Text;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// Run by a service manager (NOTIFY_SOCKET set, as systemd does for Type=notify; here a socket the
/// test listens on), a capture interface that is not there yet is waited for, not a permanent exit:
/// a SPAN NIC may appear after the sensor starts. The wait is one line in the log and the service's
/// status; once the interface comes, a real login over it is reported. What waiting cannot cure
/// (no permission) still exits 4 at once.
/// </summary>
public sealed class InterfaceWaitTests
{
    private const int ImapPort = 10443;
    private const int Pop3Port = 10410;

    [Fact]
    public void UnderAServiceManagerAMissingInterfaceIsWaitedForAndLoginsOverItAreReported()
    {
        // Random, not the process id: other test runs (this suite in another clone) may make
        // namespaces and veths on this machine at the same time.
        var tag = Random.Shared.Next(0x100000, 0x1000000).ToString("x6");
        var subnet = LinkLocalSubnet.Pick();
        string near = subnet.Near, far = subnet.Far;
        var work = Directory.CreateTempSubdirectory("sensor-wait-").FullName;
        try
        {
            using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            var notifyPath = Path.Combine(work, "notify");
            notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
            using var sensor = new LiveSensor($"snsn{tag}", new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath },
                "--ports", $"{ImapPort},{Pop3Port}");

            Assert.True(sensor.Process.WaitForStdErr("waiting for it", TimeSpan.FromSeconds(10)), sensor.Process.StdErr);
            Assert.Contains($"STATUS=waiting for interface snsn{tag}", ReceiveStatus(notify, "STATUS=waiting"));
            Thread.Sleep(2000);
            Assert.False(sensor.Process.HasExited, "the sensor exited instead of waiting for its interface: " + sensor.Process.StdErr);

            using var net = new TestNetwork(tag);
            TestNetwork.Cmd("ip", "addr", "add", $"{near}/30", "dev", net.Near);
            TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "addr", "add", $"{far}/30", "dev", net.Far);
            using var dovecot = new DovecotServer(ImapPort, Pop3Port, near);
            Assert.True(sensor.Process.WaitForStdErr($"interface snsn{tag} is there: capture started", TimeSpan.FromSeconds(15)), sensor.Process.StdErr);
            Assert.Contains($"STATUS=capturing on snsn{tag}", ReceiveStatus(notify, "STATUS=capturing"));
            Thread.Sleep(300); // let the first read start

            // A real client in the namespace, logging in to the real Dovecot across the veth.
            var (code, _, err) = ExternalProcess.RunToEnd("ip",
                ["netns", "exec", net.Namespace, "python3", "-c",
                 $"import imaplib; c=imaplib.IMAP4('{near}',{ImapPort}); c.login('alice','wonderland'); c.logout()"], TimeSpan.FromSeconds(30));
            Assert.True(code == 0, "client failed: " + err);
            sensor.WaitForEvents(1, TimeSpan.FromSeconds(5));
            var login = Assert.Single(sensor.Events());
            Assert.Equal("imap", (string?)login["app_proto"]);
            Assert.Equal("alice", (string?)login["auth"]!["username"]);
            Assert.Equal("success", (string?)login["auth"]!["outcome"]);

            Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(5)));
            Assert.Equal(0, sensor.Process.ExitCode);
            Assert.Single(Lines(sensor.Process.StdErr, "waiting for it"));
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Fact]
    public void UnderAServiceManagerMissingPermissionStillExitsFourAtOnce()
    {
        // As LiveCaptureTests does: the same build, run as an unprivileged user, copied where that user can read it.
        var bin = Path.GetDirectoryName(RepoPaths.SensorExecutable)!;
        var copy = Directory.CreateTempSubdirectory("sensor-unprivileged-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(bin)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            ExternalProcess.RunToEnd("chmod", ["-R", "a+rX", copy], TimeSpan.FromSeconds(10));
            File.SetUnixFileMode(Path.Combine(copy, "sensor"), (UnixFileMode)0b111_101_101);
            var (code, _, stderr) = ExternalProcess.RunToEnd("runuser",
                ["-u", "nobody", "--", "env", $"NOTIFY_SOCKET={Path.Combine(copy, "notify")}", Path.Combine(copy, "sensor"),
                 "run", "--interface", "lo", "--events", "-"], TimeSpan.FromSeconds(60));
            Assert.Equal(4, code);
            Assert.StartsWith("sensor: permission denied opening 'lo'", stderr.Trim());
        }
        finally { Directory.Delete(copy, true); }
    }

    /// <summary>The service-manager messages received until one starts with <paramref name="wanted"/> (or 10 s pass).</summary>
    private static string ReceiveStatus(Socket notify, string wanted)
    {
        var all = new StringBuilder();
        var buffer = new byte[4096];
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until)
        {
            if (!notify.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead)) continue;
            var message = Encoding.UTF8.GetString(buffer, 0, notify.Receive(buffer));
            all.AppendLine(message);
            if (message.StartsWith(wanted, StringComparison.Ordinal)) break;
        }
        return all.ToString();
    }

    private static IEnumerable<string> Lines(string text, string containing) =>
        text.Split('\n').Where(l => l.Contains(containing, StringComparison.Ordinal));
}
