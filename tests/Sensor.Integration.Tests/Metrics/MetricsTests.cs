using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// Metrics through InfluxDB.Client into a real VictoriaMetrics: one point per event, counts equal to
/// the events exactly, and nothing lost or doubled when the server goes away and comes back, within
/// one run or across a sensor restart.
/// </summary>
public sealed class MetricsTests
{
    private static string Pcap(string relative) => Path.Combine(RepoPaths.Pcaps, relative);

    private static (int Auth, int StartTls, int Failures) CountEvents(string stdout)
    {
        int auth = 0, tls = 0, failures = 0;
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = JsonNode.Parse(line)!;
            switch ((string?)e["event_type"])
            {
                case "auth":
                    auth++;
                    if ((string?)e["auth"]!["outcome"] == "failure") failures++;
                    break;
                case "starttls": tls++; break;
            }
        }
        return (auth, tls, failures);
    }

    [Fact]
    public void ReadWritesOnePointPerEventAndTheCountsMatchExactly()
    {
        using var vm = new VictoriaMetricsServer();
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var run = SensorProcess.Run("read", "--json", "--influx-url", vm.Url, "--spool-dir", spool, "--sensor-name", "test", RepoPaths.Pcaps);
            Assert.Equal(0, run.ExitCode);
            var (auth, tls, failures) = CountEvents(run.StdOut);
            Assert.True(auth > 100, $"only {auth} auth events");
            Assert.Equal(auth, vm.Sum("mail_auth_count"));
            Assert.Equal(tls, vm.Sum("mail_starttls_count"));
            Assert.Equal(failures, vm.Sum("mail_auth_count", "outcome=\"failure\""));
            Assert.Equal(0, vm.Sum("mail_auth_count", "sensor!=\"test\""));
            Assert.Empty(Directory.GetFiles(spool, "spool-*", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(spool, true); }
    }

    [Fact]
    public void PointsSpooledWhileTheServerIsDownArriveOnceAfterARestartOfTheSensor()
    {
        using var vm = new VictoriaMetricsServer();
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            vm.Stop();
            var first = SensorProcess.Run("read", "--json", "--influx-url", vm.Url, "--spool-dir", spool, Pcap("third-party/pop3.pcap"));
            Assert.Equal(6, first.ExitCode); // findings written, metrics not delivered
            Assert.Contains("0 points written", first.StdErr);
            var spooled = Directory.GetFiles(spool, "spool-*", SearchOption.AllDirectories);
            Assert.NotEmpty(spooled);
            // Plain line protocol, one point a line, no byte-order mark: any InfluxDB /write accepts it as is.
            var lines = File.ReadAllLines(spooled[0]);
            // Three logins, then the capture's one server.
            Assert.Equal(4, lines.Length);
            Assert.All(lines[..3], l => Assert.StartsWith("mail_auth,", l, StringComparison.Ordinal));
            Assert.StartsWith("mail_server,", lines[3], StringComparison.Ordinal);
            Assert.Equal((byte)'m', File.ReadAllBytes(spooled[0])[0]);

            vm.Start();
            var second = SensorProcess.Run("read", "--json", "--influx-url", vm.Url, "--spool-dir", spool, Pcap("crafted/many-flows-interleaved.pcap"));
            Assert.Equal(0, second.ExitCode);
            int expected = CountEvents(first.StdOut).Auth + CountEvents(second.StdOut).Auth;
            Assert.Equal(3 + 20, expected);
            Assert.Equal(expected, vm.Sum("mail_auth_count"));
            Assert.Empty(Directory.GetFiles(spool, "spool-*", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(spool, true); }
    }

    [Fact]
    public void LiveSensorLosesNoPointWhenTheServerStopsMidRun()
    {
        var tag = ((Environment.ProcessId + 5000) % 10000).ToString("D4");
        var work = Directory.CreateTempSubdirectory("sensor-outage-").FullName;
        try
        {
            var before = TestNetwork.RewriteToLoopback(Pcap("crafted/pop3-user-pass.pcap"), work);
            var during = TestNetwork.RewriteToLoopback(Pcap("crafted/many-flows-interleaved.pcap"), work);
            using var vm = new VictoriaMetricsServer();
            using var net = new TestNetwork(tag);
            // Health points every second; every failed login a guessing episode (threshold 1), so the
            // 10 failures of the second capture make 10 mail_bruteforce points.
            var environment = new Dictionary<string, string>
            {
                ["SENSOR_Health__MetricsIntervalSeconds"] = "1",
                ["SENSOR_Guessing__Failures"] = "1",
            };
            using var sensor = new LiveSensor(net.Near, environment, "--influx-url", vm.Url, "--spool-dir", Path.Combine(work, "spool"));

            net.Replay(before);
            Assert.Equal(1, vm.WaitForSum("mail_auth_count", 1, TimeSpan.FromSeconds(15)));

            vm.Stop();
            net.Replay(during);
            sensor.WaitForEvents(21, TimeSpan.FromSeconds(10));
            Assert.True(sensor.Process.WaitForStdErr("points are spooled and retried", TimeSpan.FromSeconds(15)), sensor.Process.StdErr);

            vm.Start();
            // Replayed from the spool once the writer's backoff lets it try again.
            Assert.Equal(21, vm.WaitForSum("mail_auth_count", 21, TimeSpan.FromSeconds(45)));
            Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(15)));
            Assert.Equal(0, sensor.Process.ExitCode);
            Assert.Equal(21, vm.Sum("mail_auth_count"));
            Assert.Equal(21, sensor.Events().Count(e => (string?)e["event_type"] == "auth"));
            Assert.Equal(10, sensor.Events().Count(e => (string?)e["event_type"] == "bruteforce"));
            Assert.Equal(10, vm.Sum("mail_bruteforce_failures"));
            Assert.True(vm.Samples("sensor_health_events_written") > 0, "no sensor_health points");
            Assert.True(vm.Sum("sensor_health_points_written") > 0);
            // What fragment reassembly and the decoder gave up, counted even when nothing was (plain loopback traffic).
            Assert.True(vm.Samples("sensor_health_fragments_lost") > 0 && vm.Samples("sensor_health_encapsulations_skipped") > 0);
            Assert.Equal(0, vm.Sum("sensor_health_fragments_lost") + vm.Sum("sensor_health_encapsulations_skipped"));
        }
        finally { Directory.Delete(work, true); }
    }
}
