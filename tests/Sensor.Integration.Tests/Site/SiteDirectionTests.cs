using System.Net;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Site;

/// <summary>
/// `sensor read --home-net` on the bundled captures: every finding says which side of the site its
/// client and server are on, as an independent oracle (.NET's own <see cref="IPNetwork"/>) computes
/// from its addresses; server events say whether the server is inside; without a home net nothing
/// changes. The Dovecot captures were made on loopback with clients on 127.0.0.1 and, for the
/// plaintext-disabled instance, 127.0.0.2, to a server on 127.0.0.1 (pcaps/dovecot/README.md); the
/// IPv6 capture is 2001:db8::1 to 2001:db8::2.
/// </summary>
public sealed class SiteDirectionTests
{
    private static readonly string Dovecot = Path.Combine(RepoPaths.Pcaps, "dovecot");
    private static readonly string Ipv6 = Path.Combine(RepoPaths.Pcaps, "crafted", "ipv6-ethernet.pcap");

    private static List<JsonObject> Read(params string[] args)
    {
        var run = SensorProcess.Run(["read", "--json", "--no-summary", .. args]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        return run.StdOutLines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    /// <summary>.NET's answer, with IPv4 seen through IPv6 prefixes as IPv4-mapped (RFC 4291 §2.5.5.2), as Zeek does: ::/0 is everything.</summary>
    private static bool Inside(IPNetwork[] home, string address)
    {
        var a = IPAddress.Parse(address);
        return home.Any(n => n.Contains(a) || (n.BaseAddress.AddressFamily != a.AddressFamily && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && n.Contains(a.MapToIPv6())));
    }

    private static string Oracle(IPNetwork[] home, string client, string server)
    {
        bool c = Inside(home, client), s = Inside(home, server);
        return (c, s) switch { (true, false) => "outbound", (false, true) => "inbound", (true, true) => "internal", _ => "external" };
    }

    public static TheoryData<string, string, string[]> Sites() => new()
    {
        // The server's address inside: the plaintext-disabled instance's clients (127.0.0.2) come from outside.
        { "127.0.0.1/32", "dovecot", ["inbound", "internal"] },
        // One client address inside: its passwords leave for a server outside.
        { "127.0.0.2/32", "dovecot", ["outbound", "external"] },
        { "127.0.0.0/8", "dovecot", ["internal"] },
        { "10.0.0.0/8,192.168.0.0/16", "dovecot", ["external"] },
        // IPv6 home nets leave IPv4 outside; ::/0 takes both families in.
        { "::/0", "dovecot", ["internal"] },
        { "2001:db8::1/128", "ipv6", ["outbound"] },
        { "2001:db8::2/128", "ipv6", ["inbound"] },
        { "2001:db8::/32", "ipv6", ["internal"] },
        { "0.0.0.0/0", "ipv6", ["external"] },
    };

    [Theory]
    [MemberData(nameof(Sites))]
    public void EveryFindingCarriesTheDirectionItsAddressesGive(string homeNet, string captures, string[] seen)
    {
        var home = homeNet.Split(',').Select(IPNetwork.Parse).ToArray();
        var events = Read("--home-net", homeNet, captures == "ipv6" ? Ipv6 : Dovecot);
        var findings = events.Where(e => (string?)e["event_type"] != "server").ToList();
        Assert.NotEmpty(findings);
        foreach (var e in findings)
            Assert.Equal(Oracle(home, (string)e["src_ip"]!, (string)e["dest_ip"]!), (string?)e["direction"]);
        Assert.Equal(seen.Order(), findings.Select(e => (string)e["direction"]!).Distinct().Order());

        var servers = events.Where(e => (string?)e["event_type"] == "server").ToList();
        Assert.NotEmpty(servers);
        foreach (var s in servers)
        {
            Assert.Null(s["direction"]); // a server has no direction of its own
            Assert.Equal(Inside(home, (string)s["dest_ip"]!), (bool)s["server"]!["inside"]!);
        }
    }

    [Fact]
    public void WithoutAHomeNetTheFieldsAreAbsent()
    {
        var events = Read(Dovecot, Ipv6);
        Assert.True(events.Count > 50);
        Assert.All(events, e => Assert.False(e.ContainsKey("direction")));
        Assert.All(events.Where(e => (string?)e["event_type"] == "server"), e => Assert.False(e["server"]!.AsObject().ContainsKey("inside")));
    }

    [Fact]
    public void TheConfigFileEnvironmentAndOptionGiveTheSameDirections()
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-site-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "Site": { "HomeNetworks": [ "127.0.0.2/32", "2001:db8::/32" ] } }""");
        try
        {
            var byOption = Read("--home-net", "127.0.0.2/32,2001:db8::/32", Dovecot, Ipv6);
            var byFile = Read("--config", config, Dovecot, Ipv6);
            var byEnvironment = SensorProcess.Run(new Dictionary<string, string> { ["SENSOR_Site__HomeNetworks"] = "127.0.0.2/32,2001:db8::/32" },
                "read", "--json", "--no-summary", Dovecot, Ipv6);
            static List<string?> Directions(IEnumerable<JsonObject> es) => es.Select(e => (string?)e["direction"]).ToList();
            Assert.Equal(Directions(byOption), Directions(byFile));
            Assert.Equal(Directions(byOption), Directions(byEnvironment.StdOutLines.Select(l => JsonNode.Parse(l)!.AsObject())));
            Assert.Contains("outbound", Directions(byOption));
            Assert.Contains("internal", Directions(byOption));
        }
        finally { File.Delete(config); }
    }

    [Fact]
    public void ABadPrefixInTheConfigFileIsOneLineAndExitTwo()
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-site-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, """{ "Site": { "HomeNetworks": [ "10.0.0.0/8", "10.0.0.0/33" ] } }""");
        try
        {
            var run = SensorProcess.Run("read", "--config", config, Ipv6);
            Assert.Equal(2, run.ExitCode);
            Assert.Empty(run.StdOut);
            Assert.Equal("sensor: Site:HomeNetworks: '10.0.0.0/33' has a prefix length that is not 0 to 32", run.StdErr.Trim());
        }
        finally { File.Delete(config); }
    }

    [Fact]
    public void TheReadableOutputNamesTheDirectionOfEachLogin()
    {
        var run = SensorProcess.Run("read", "--home-net", "2001:db8::1", Ipv6);
        Assert.Equal(0, run.ExitCode);
        var login = Assert.Single(run.StdOutLines, l => l.StartsWith("2025-", StringComparison.Ordinal) && l.Contains(" login ", StringComparison.Ordinal));
        Assert.Contains("[2001:db8::2]:143 (outbound)", login);
        var server = Assert.Single(run.StdOutLines, l => l.StartsWith("2025-", StringComparison.Ordinal) && l.Contains(" server ", StringComparison.Ordinal));
        Assert.Contains("[2001:db8::2]:143 (outside)", server);
    }
}
