using System.Text.Json.Nodes;
using Sensor.Integration.Tests.Report;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// What is kept across connections is kept per tenant network: on a recorded capture of two VXLAN
/// networks (VNI 100 and 200) with the same inner addresses, each running its own Dovecot, the
/// server inventory, the summary and the report see four servers (IMAP and POP3 in each tenant),
/// each named with its tunnel, never two servers with both tenants' logins added together.
/// </summary>
public sealed class TenantSeparationTests
{
    private static readonly string Capture = Path.Combine(RepoPaths.Pcaps, "tunnels", "vxlan-two-tenants-same-addresses.pcap");

    private static uint? Vni(JsonObject e) =>
        e["tunnel"] is JsonArray t && t.Count == 1 && (string?)t[0]!["type"] == "vxlan" ? (uint?)t[0]!["id"] : null;

    [Fact]
    public void EachTenantsServersAreServersOfTheirOwnWithTheirOwnLoginsAndTunnel()
    {
        var run = SensorProcess.Run("read", "--json", "--no-summary", Capture);
        Assert.True(run.ExitCode == 0, run.StdErr);
        var events = run.StdOutLines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var servers = events.Where(e => (string?)e["event_type"] == "server").ToList();
        var logins = events.Where(e => (string?)e["event_type"] == "auth").ToList();

        // The same address and port in two tenants: two servers per protocol.
        Assert.Equal(4, servers.Count);
        Assert.All(servers, s => Assert.Equal("10.0.0.2", (string?)s["dest_ip"]));
        var keys = servers.Select(s => ((string?)s["app_proto"], Vni(s))).Order().ToList();
        Assert.Equal([("imap", 100u), ("imap", 200u), ("pop3", 100u), ("pop3", 200u)], keys.Select(k => (k.Item1, k.Item2 ?? 0)).ToList());

        // Each server's counts are its own tenant's logins (dave's failure is VNI 200's POP3 server's alone).
        foreach (var s in servers)
        {
            var own = logins.Where(a => (string?)a["app_proto"] == (string?)s["app_proto"] && Vni(a) == Vni(s)).ToList();
            Assert.Single(own);
            Assert.Equal(own.Count, (int)s["server"]!["logins"]!);
            Assert.Equal(own.Count(a => (string?)a["auth"]!["outcome"] == "failure"), (int)s["server"]!["logins_failed"]!);
        }
    }

    [Fact]
    public void TheSummaryAndTheReportNameTheTenantBesideTheAddress()
    {
        var summary = SensorProcess.Run("read", Capture);
        Assert.True(summary.ExitCode == 0, summary.StdErr);
        Assert.Contains("imap 10.0.0.2:143 in vxlan:100", summary.StdOut);
        Assert.Contains("imap 10.0.0.2:143 in vxlan:200", summary.StdOut);

        using var report = new ReportRun(Capture);
        var data = JsonNode.Parse(report.DataSection)!;
        var servers = data["servers"]!["rows"]!.AsArray().Select(r => (string?)r!["server"]).Order().ToList();
        Assert.Equal(["10.0.0.2:110 in vxlan:100", "10.0.0.2:110 in vxlan:200", "10.0.0.2:143 in vxlan:100", "10.0.0.2:143 in vxlan:200"], servers);
        Assert.All(data["servers"]!["rows"]!.AsArray(), r => Assert.Equal(1, (int)r!["logins"]!));
        // One client address, two tenants: two clients of two logins each.
        var clients = data["clients"]!["rows"]!.AsArray().Select(r => ((string?)r!["client"], (int)r["logins"]!)).Order().ToList();
        Assert.Equal([("10.0.0.1 in vxlan:100", 2), ("10.0.0.1 in vxlan:200", 2)], clients);
    }
}
