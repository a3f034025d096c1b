using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// `read --metrics-time now|packet` against a real VictoriaMetrics with its default retention (one
/// month): an old capture's points stamped with packet time are dropped there without a word; stamped
/// with the time of the read they are kept, one per event, and carry that time.
/// </summary>
public sealed class MetricsTimeTests
{
    /// <summary>Zeek's POP3 trace, recorded in 2013: far beyond a month's retention.</summary>
    private static readonly string OldCapture = Path.Combine(RepoPaths.Pcaps, "third-party", "pop3.pcap");

    private static int AuthEvents(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => (string?)JsonNode.Parse(l)!["event_type"] == "auth");

    /// <summary>Every sample's time (Unix ms) of a metric, from VictoriaMetrics' /api/v1/export.</summary>
    private static List<long> SampleTimes(VictoriaMetricsServer vm, string metric)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.GetAsync(vm.Url + "/internal/force_flush").Result.EnsureSuccessStatusCode();
        var body = new FormUrlEncodedContent([new KeyValuePair<string, string>("match[]", $"{{__name__=\"{metric}\"}}")]);
        var text = http.PostAsync(vm.Url + "/api/v1/export", body).Result.Content.ReadAsStringAsync().Result;
        var times = new List<long>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            times.AddRange(doc.RootElement.GetProperty("timestamps").EnumerateArray().Select(t => t.GetInt64()));
        }
        return times;
    }

    private static SensorProcess.Result Read(VictoriaMetricsServer vm, string spool, params string[] extra) =>
        SensorProcess.Run(["read", "--json", "--influx-url", vm.Url, "--spool-dir", spool, .. extra, OldCapture]);

    [Fact]
    public void WithMetricsTimeNowAnOldCapturesPointsAreKeptAndCarryTheTimeOfTheRead()
    {
        using var vm = new VictoriaMetricsServer(retention: "1"); // VictoriaMetrics' default: 1 month
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var run = Read(vm, spool, "--metrics-time", "now");
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.Equal(0, run.ExitCode);
            int auth = AuthEvents(run.StdOut);
            Assert.True(auth > 0, "the capture has logins");
            // A new series can take a moment to become searchable in VictoriaMetrics even after
            // /internal/force_flush (it failed once in CI under load), so wait for it, bounded.
            long kept = vm.WaitForSum("mail_auth_count", auth, TimeSpan.FromSeconds(15));
            Assert.True(kept == auth, $"VictoriaMetrics holds {kept} of {auth} logins; the sensor said: {run.StdErr}");
            var times = SampleTimes(vm, "mail_auth_count");
            Assert.Equal(auth, times.Count);
            Assert.All(times, t => Assert.InRange(t, before, after));
            // The events themselves keep the packet's time.
            Assert.All(run.StdOutLines, l => Assert.StartsWith("2013-", (string?)JsonNode.Parse(l)!["timestamp"]));
            Assert.DoesNotContain("timestamped with the capture's time", run.StdErr); // no retention warning: nothing is old
        }
        finally { Directory.Delete(spool, true); }
    }

    [Fact]
    public void ByDefaultPointsCarryPacketTimeAndAMonthsRetentionDropsAnOldCapturesPoints()
    {
        using var vm = new VictoriaMetricsServer(retention: "1");
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var run = Read(vm, spool);
            Assert.Equal(0, run.ExitCode); // VictoriaMetrics answered 204 for every batch
            Assert.True(AuthEvents(run.StdOut) > 0);
            Assert.Equal(0, vm.Sum("mail_auth_count")); // and kept none of them
            Assert.Contains("--metrics-time now", run.StdErr); // the warning says what to do

            var explicitPacket = Read(vm, spool, "--metrics-time", "packet");
            Assert.Equal(0, explicitPacket.ExitCode);
            Assert.Equal(0, vm.Sum("mail_auth_count"));
        }
        finally { Directory.Delete(spool, true); }
    }
}
