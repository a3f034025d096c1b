using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Metrics;

namespace Sensor.Integration.Tests.Inventory;

/// <summary>
/// The inventory and the site in a real VictoriaMetrics (through InfluxDB.Client's line protocol):
/// one mail_server point per server event, tagged by server, port and protocol, with the counts the
/// event has; mail_auth tagged with the direction when, and only when, a home net is set.
/// </summary>
public sealed class ServerMetricsTests
{
    private static readonly string Dovecot = Path.Combine(RepoPaths.Pcaps, "dovecot");

    [Fact]
    public void ServerEventsAndDirectionsReachVictoriaMetrics()
    {
        using var vm = new VictoriaMetricsServer();
        var spool = Directory.CreateTempSubdirectory("sensor-spool-").FullName;
        try
        {
            var site = SensorProcess.Run("read", "--json", "--no-summary", "--influx-url", vm.Url, "--spool-dir", spool,
                "--sensor-name", "site", "--home-net", "127.0.0.2/32", Dovecot);
            Assert.True(site.ExitCode == 0, site.StdErr);
            var events = site.StdOutLines.Select(l => JsonNode.Parse(l)!).ToList();
            var servers = events.Where(e => (string?)e["event_type"] == "server").ToList();
            var auths = events.Where(e => (string?)e["event_type"] == "auth").ToList();
            Assert.True(servers.Count > 40, $"{servers.Count} server events");

            // Every server event is a point: the counts summed over them match, per field.
            Assert.Equal(servers.Count, vm.Samples("mail_server_logins", "sensor=\"site\""));
            foreach (var field in new[] { "logins", "cleartext_logins_accepted", "cleartext_logins" })
                Assert.Equal(servers.Sum(s => (long)s["server"]![field]!), vm.Sum($"mail_server_{field}"));
            Assert.Equal(servers.Sum(s => (long)s["server"]!["logins_failed"]!), vm.Sum("mail_server_failures"));
            Assert.Equal(servers.Count(s => (bool?)s["server"]!["starttls_offered"] == true), vm.Sum("mail_server_starttls_offered"));
            // The servers that accept cleartext logins, as Grafana asks for them: by server, port and protocol.
            long imapAccepted = servers.Where(s => (string?)s["app_proto"] == "imap" && (int)s["dest_port"]! == 143)
                .Sum(s => (long)s["server"]!["cleartext_logins_accepted"]!);
            Assert.True(imapAccepted > 5);
            Assert.Equal(imapAccepted, vm.Sum("mail_server_cleartext_logins_accepted", "server=\"127.0.0.1\",port=\"143\",proto=\"imap\",inside=\"false\""));
            Assert.Equal(0, vm.Samples("mail_server_logins", "inside=\"true\""));

            // mail_auth: the direction tag takes the event's direction; the plaintext-disabled instance's clients (127.0.0.2) are outbound.
            foreach (var direction in new[] { "outbound", "external" })
            {
                long n = auths.Count(a => (string?)a["direction"] == direction);
                Assert.True(n > 0, direction);
                Assert.Equal(n, vm.Sum("mail_auth_count", $"sensor=\"site\",direction=\"{direction}\""));
            }
            Assert.Equal(auths.Count, vm.Sum("mail_auth_count", "sensor=\"site\""));

            // Without a home net there is no direction tag at all.
            var plain = SensorProcess.Run("read", "--json", "--no-summary", "--influx-url", vm.Url, "--spool-dir", spool,
                "--sensor-name", "plain", Dovecot);
            Assert.True(plain.ExitCode == 0, plain.StdErr);
            Assert.Equal(auths.Count, vm.Sum("mail_auth_count", "sensor=\"plain\""));
            Assert.Equal(0, vm.Samples("mail_auth_count", "sensor=\"plain\",direction=~\".+\""));
            Assert.Equal(0, vm.Samples("mail_server_logins", "sensor=\"plain\",inside=~\".+\""));
        }
        finally { Directory.Delete(spool, true); }
    }
}
