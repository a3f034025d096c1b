using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// Live capture with the default settings (no kernel filter: a plain "tcp" would throw away VXLAN,
/// GENEVE, GRE, MPLS, PPPoE, IP fragments and tags the kernel leaves in the data): real IMAP and POP3
/// logins through a real kernel VXLAN tunnel, and the recorded tunnel captures replayed onto a veth,
/// are reported with their layers. The fragmented captures run with two analysis workers (a fragment
/// goes to every worker: its connection is known only once the datagram is whole), the others with
/// the default workers.
/// </summary>
public sealed class TunnelLiveTests
{
    private const int ImapPort = 10943;
    private const int Pop3Port = 10910;

    [Fact]
    public void LoginsThroughARealVxlanTunnelAreFoundOnTheUnderlay()
    {
        var tag = Random.Shared.Next(0x100000, 0x1000000).ToString("x6");
        // Underlay: a link-local /30 on the test's veth; overlay: another /30 on the VXLAN devices.
        var subnet = LinkLocalSubnet.Pick();
        string near = subnet.Near, far = subnet.Far;
        var (inner, innerFar) = subnet.Under("100.64");
        uint vni = (uint)Random.Shared.Next(1000, 16_000_000);
        string vx = $"snsx{tag}";
        using var net = new TestNetwork(tag);
        try
        {
            TestNetwork.Cmd("ip", "addr", "add", $"{near}/30", "dev", net.Near);
            TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "addr", "add", $"{far}/30", "dev", net.Far);
            TestNetwork.Cmd("ip", "link", "add", vx, "type", "vxlan", "id", $"{vni}", "local", near, "remote", far, "dstport", "4789", "dev", net.Near);
            TestNetwork.Cmd("ip", "addr", "add", $"{inner}/30", "dev", vx);
            TestNetwork.Cmd("ip", "link", "set", vx, "up");
            TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "link", "add", "vx0", "type", "vxlan", "id", $"{vni}", "local", far, "remote", near, "dstport", "4789", "dev", net.Far);
            TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "addr", "add", $"{innerFar}/30", "dev", "vx0");
            TestNetwork.Cmd("ip", "netns", "exec", net.Namespace, "ip", "link", "set", "vx0", "up");

            using var dovecot = new DovecotServer(ImapPort, Pop3Port, inner);
            using var sensor = new LiveSensor(net.Near); // defaults: no filter, default workers
            Thread.Sleep(300);
            var client = $$"""
                import imaplib, poplib
                c = imaplib.IMAP4('{{inner}}', {{ImapPort}}); c.login('alice', 'wonderland'); c.logout()
                p = poplib.POP3('{{inner}}', {{Pop3Port}}); p.user('bob'); p.pass_('builder'); p.quit()
                """;
            var (code, _, err) = ExternalProcess.RunToEnd("ip", ["netns", "exec", net.Namespace, "python3", "-c", client], TimeSpan.FromSeconds(60));
            Assert.True(code == 0, "client failed: " + err);
            sensor.WaitForEvents(2, TimeSpan.FromSeconds(10));

            var logins = sensor.Events().Where(e => (string?)e["event_type"] == "auth").ToList();
            Assert.True(logins.Count == 2, $"{logins.Count} logins: {sensor.Process.StdErr}");
            Assert.All(logins, e =>
            {
                Assert.Equal(inner, (string?)e["dest_ip"]);
                Assert.Equal(innerFar, (string?)e["src_ip"]);
                Assert.Equal($$"""[{"type":"vxlan","id":{{vni}}}]""", e["tunnel"]!.ToJsonString());
            });
            Assert.Equal(["alice", "bob"], logins.Select(e => (string)e["auth"]!["username"]!).Order());
        }
        finally
        {
            ExternalProcess.RunToEnd("ip", ["link", "del", vx], TimeSpan.FromSeconds(10));
        }
    }

    public static TheoryData<string> Replayed() => new(
        "vlan-8021q", "vlan-qinq", "gretap", "gre-key-seq", "geneve-options", "erspan-type2", "erspan-type3",
        "mpls-3-labels", "pppoe", "ipip", "vxlan-fragmented-ipv4", "plain-frag-ipv4-router", "frag-tiny", "vxlan-two-tenants-same-addresses");

    [Theory]
    [MemberData(nameof(Replayed))]
    public void RecordedTunnelCapturesReplayedOntoAnInterfaceGiveTheirLogins(string capture)
    {
        var tag = Random.Shared.Next(0x100000, 0x1000000).ToString("x6");
        var work = Directory.CreateTempSubdirectory("sensor-tunnel-live-").FullName;
        try
        {
            var source = Path.Combine(RepoPaths.Pcaps, "tunnels", capture + ".pcap");
            // The outer (and plain) addresses into 127.0.0.0/8 (the replay rule); what is inside a tunnel
            // is payload to the kernel. The near end has no address and the frames are not for its MAC.
            var replay = Path.Combine(work, capture + ".pcap");
            TestNetwork.Cmd("tcprewrite", "--pnat=192.0.2.0/24:127.0.2.0/24,10.0.0.0/8:127.0.0.0/8", $"--infile={source}", $"--outfile={replay}");
            var expected = File.ReadAllLines(Path.Combine(RepoPaths.Pcaps, "tunnels", capture + ".expected.jsonl"))
                .Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject())
                .Where(e => (string?)e["event_type"] == "auth").ToList();
            Assert.NotEmpty(expected);

            using var net = new TestNetwork(tag);
            using var sensor = new LiveSensor(net.Near, capture.Contains("frag", StringComparison.Ordinal) ? ["--workers", "2"] : []);
            Thread.Sleep(300);
            net.Replay(replay);
            sensor.WaitForEvents(expected.Count, TimeSpan.FromSeconds(10));
            Thread.Sleep(300);

            var logins = sensor.Events().Where(e => (string?)e["event_type"] == "auth").ToList();
            Assert.True(logins.Count == expected.Count, $"{capture}: {logins.Count} of {expected.Count} logins: {sensor.Process.StdErr}");
            static string Describe(JsonObject e) =>
                $"{e["auth"]!["username"]} {e["auth"]!["mechanism"]} {e["auth"]!["outcome"]} {e["tunnel"]?.ToJsonString() ?? "-"}";
            Assert.Equal(expected.Select(Describe).Order(), logins.Select(Describe).Order());
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}
