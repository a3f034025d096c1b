using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Grafana;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// The sensor's own line protocol, exactly as it would send it (taken from its spool, written while
/// the server was unreachable), is accepted by Debian's InfluxDB 1.6 /write, and InfluxQL counts
/// there equal the events.
/// </summary>
public sealed class InfluxDb1LineProtocolTests
{
    [Fact]
    public void TheSensorsPointsAreAcceptedByInfluxDb16AndCountExactly()
    {
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            // Port 1 on loopback: nothing listens, so every point is spooled as line protocol.
            var run = SensorProcess.Run("read", "--json", "--influx-url", "http://127.0.0.1:1", "--spool-dir", spool,
                "--sensor-name", "lp-test", RepoPaths.Pcaps);
            Assert.Equal(6, run.ExitCode); // findings written, metrics waiting in the spool
            var events = run.StdOutLines.Select(l => JsonNode.Parse(l)!).ToList();
            int auth = events.Count(e => (string?)e["event_type"] == "auth");
            int cleartext = events.Count(e => (string?)e["auth"]?["exposure"] == "cleartext");
            int tls = events.Count(e => (string?)e["event_type"] == "starttls");
            // All captures come from 127.0.0.1: one run over them may cross a guessing threshold (a mail_bruteforce point).
            int bruteforce = events.Count(e => (string?)e["event_type"] == "bruteforce");
            int servers = events.Count(e => (string?)e["event_type"] == "server"); // a mail_server point each
            var lines = Directory.GetFiles(spool, "spool-*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines)
                .Where(l => l.Length > 0).ToList();
            Assert.Equal(auth + tls + bruteforce + servers, lines.Count);

            using var influx = new InfluxDbServer();
            influx.Execute("CREATE DATABASE mail_sensor");
            influx.Write("mail_sensor", lines);

            Assert.Equal(auth, Count(influx, "SELECT sum(\"count\") FROM \"mail_auth\""));
            Assert.Equal(cleartext, Count(influx, "SELECT sum(\"count\") FROM \"mail_auth\" WHERE \"exposure\"='cleartext'"));
            Assert.Equal(tls, Count(influx, "SELECT sum(\"count\") FROM \"mail_starttls\""));
            Assert.Equal(auth, Count(influx, "SELECT sum(\"count\") FROM \"mail_auth\" WHERE \"sensor\"='lp-test'"));
        }
        finally { Directory.Delete(spool, true); }
    }

    private static long Count(InfluxDbServer influx, string query)
    {
        using var doc = influx.Query("mail_sensor", query);
        var series = doc.RootElement.GetProperty("results")[0].GetProperty("series")[0];
        return series.GetProperty("values")[0][1].GetInt64();
    }
}
