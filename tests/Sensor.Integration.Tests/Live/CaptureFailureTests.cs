using System.Net;
using System.Net.Sockets;
using System.Text;
using Sensor.Capture.Parallel;
using Sensor.Core.Flows;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// A capture that fails in a way reopening cannot cure must not look alive: the process exits 5 (so
/// systemd's Restart=on-failure restarts it) within seconds, says why on stderr, keeps every event
/// found before, and logs no health after the failure. The failure is real, on the capture thread
/// or an analysis worker, provoked with the test-only MAIL_SENSOR_TEST_FAULT (see TestFault): nothing
/// from outside makes libpcap's read fail for good.
/// </summary>
public sealed class CaptureFailureTests
{
    private const int ImapPort = 10243;
    private const int Pop3Port = 10210;
    private const int SilentImapPort = 10244;

    [Fact]
    public void ACaptureThreadFailureExitsFiveAndKeepsTheLoginsFoundBefore()
    {
        var work = Directory.CreateTempSubdirectory("sensor-fault-").FullName;
        try
        {
            var trigger = Path.Combine(work, "fail-now");
            using var dovecot = new DovecotServer(ImapPort, Pop3Port);
            using var sensor = new LiveSensor("lo", Faulty("capture-thread", trigger),
                "--ports", $"{ImapPort},{Pop3Port}", "--workers", "1");
            Thread.Sleep(300); // libpcap is attached once "capturing on" is logged; let the first read start

            Login($"import imaplib; c=imaplib.IMAP4('{DovecotServer.Host}',{ImapPort}); c.login('alice','wonderland'); c.logout()");
            sensor.WaitForEvents(1, TimeSpan.FromSeconds(5));
            Assert.True(sensor.Process.WaitForStdErr("health: packets", TimeSpan.FromSeconds(5)), "no health line while capturing: " + sensor.Process.StdErr);

            File.WriteAllText(trigger, "");
            AssertExitsFive(sensor, "test fault injected on the capture thread");
            var login = Assert.Single(sensor.Events());
            Assert.Equal("alice", (string?)login["auth"]!["username"]);
            Assert.Equal("success", (string?)login["auth"]!["outcome"]);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>
    /// One of two analysis workers fails. The capture stops, and the other worker still settles its
    /// connections: a login waiting for its answer there is reported (outcome unknown). The failed
    /// worker's connections are given up: nothing is invented from state that can no longer be trusted.
    /// </summary>
    [Fact]
    public void AFailingAnalysisWorkerExitsFiveAndTheOtherWorkerSettlesItsLogins()
    {
        var work = Directory.CreateTempSubdirectory("sensor-fault-").FullName;
        try
        {
            var trigger = Path.Combine(work, "fail-now");
            using var dovecot = new DovecotServer(ImapPort + 100, Pop3Port + 100);
            // A server that greets and never answers (real servers always answer): its logins stay pending.
            using var silent = new TcpListener(IPAddress.Loopback, SilentImapPort);
            silent.Start();
            using var sensor = new LiveSensor("lo", Faulty("analysis-worker", trigger),
                "--ports", $"{ImapPort + 100},{SilentImapPort}", "--workers", "2");
            Thread.Sleep(300);

            Login($"import imaplib; c=imaplib.IMAP4('{DovecotServer.Host}',{ImapPort + 100}); c.login('alice','wonderland'); c.logout()");
            sensor.WaitForEvents(1, TimeSpan.FromSeconds(5));

            // A pending login on each worker: the failing worker is the first (worker 0).
            var pending = new List<(Socket Client, Socket Server, int Worker)>();
            try
            {
                foreach (int worker in new[] { 0, 1 })
                    pending.Add(PendingLogin(silent, worker, worker == 0 ? "failedworker" : "healthyworker"));
                Thread.Sleep(1500); // the batches reach the workers on the capture's next idle tick (100 ms)
                File.WriteAllText(trigger, "");
                AssertExitsFive(sensor, "analysis worker 0 of 2 failed (test fault injected on the analysis worker");
            }
            finally
            {
                foreach (var (client, server, _) in pending) { client.Dispose(); server.Dispose(); }
            }

            var events = sensor.Events();
            Assert.Contains(events, e => (string?)e["auth"]?["username"] == "alice" && (string?)e["auth"]?["outcome"] == "success");
            var settled = Assert.Single(events, e => (string?)e["auth"]?["username"] == "healthyworker");
            Assert.Equal("unknown", (string?)settled["auth"]!["outcome"]);
            Assert.DoesNotContain(events, e => (string?)e["auth"]?["username"] == "failedworker");
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static Dictionary<string, string> Faulty(string site, string trigger) => new()
    {
        ["MAIL_SENSOR_TEST_FAULT"] = $"{site}:{trigger}",
        ["SENSOR_Health__IntervalSeconds"] = "1",
    };

    private static void Login(string python)
    {
        var (code, _, err) = ExternalProcess.RunToEnd("python3", ["-c", python], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, "client failed: " + err);
    }

    private static void AssertExitsFive(LiveSensor sensor, string cause)
    {
        Assert.True(sensor.Process.WaitForExit(TimeSpan.FromSeconds(10)), "the sensor went on after its capture failed: " + sensor.Process.StdErr);
        var stderr = sensor.Process.StdErr;
        Assert.Equal(5, sensor.Process.ExitCode);
        int failed = stderr.IndexOf("capture failed: " + cause, StringComparison.Ordinal);
        Assert.True(failed >= 0, "stderr does not say why the capture stopped: " + stderr);
        Assert.True(stderr.IndexOf("health: ", failed, StringComparison.Ordinal) < 0, "health reported after the capture died: " + stderr);
        Assert.True(stderr.IndexOf("capture stopped; ", failed, StringComparison.Ordinal) > failed, "no shutdown summary after the failure: " + stderr);
    }

    /// <summary>
    /// An IMAP connection to the silent server, greeted, whose LOGIN waits for an answer; made again
    /// until its endpoints hash to <paramref name="worker"/> of two (the client port is the kernel's).
    /// </summary>
    private static (Socket Client, Socket Server, int Worker) PendingLogin(TcpListener silent, int worker, string username)
    {
        for (int attempt = 0; attempt < 64; attempt++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(IPAddress.Loopback, SilentImapPort);
            var server = silent.AcceptSocket();
            var local = (IPEndPoint)client.LocalEndPoint!;
            var segment = new TcpSegment(IpEndpoint.Parse("127.0.0.1", (ushort)local.Port), IpEndpoint.Parse("127.0.0.1", SilentImapPort),
                0, 0, TcpFlags.Ack, default, 0);
            if (FlowShard.IndexOf(segment, 2) != worker)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            server.Send(Encoding.ASCII.GetBytes("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"));
            var greeting = new byte[256];
            client.Receive(greeting);
            client.Send(Encoding.ASCII.GetBytes($"a1 LOGIN {username} secret\r\n"));
            return (client, server, worker);
        }
        throw new InvalidOperationException($"no connection landed on worker {worker} in 64 tries");
    }
}
