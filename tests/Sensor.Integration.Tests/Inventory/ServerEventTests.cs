using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Inventory;

/// <summary>
/// `sensor read` ends each capture with one `server` event per server, and the bundled captures say
/// exactly what those must be. The expectations come from how the captures were made
/// (pcaps/dovecot/README.md, pcaps/smtp/README.md) and from their expected events, never from the
/// sensor's output: one connection per capture to 127.0.0.1 on the port in its name (IMAP 143 or
/// 2143, POP3 110 or 2110); Dovecot with `ssl = yes` (STARTTLS/STLS always offered) and
/// `auth_mechanisms = plain login cram-md5 digest-md5 apop`; the plaintext-disabled instance (its
/// clients on 127.0.0.2: the `*-refused` captures but the two of a refused STARTTLS/STLS,
/// `imap-login-logindisabled` and `pop3-user-after-server-close`) advertising
/// LOGINDISABLED and hiding PLAIN, LOGIN and USER; Postfix on 2525 offering AUTH in cleartext, on
/// 2587 only after STARTTLS, on 2526 never.
/// </summary>
public sealed class ServerEventTests
{
    private static readonly string[] DisabledInstance = ["imap-login-logindisabled", "pop3-user-after-server-close"];

    public static TheoryData<string> DovecotCaptures() => new(
        Directory.GetFiles(Path.Combine(RepoPaths.Pcaps, "dovecot"), "*.pcap").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!);

    private static List<JsonObject> Read(string path)
    {
        var run = SensorProcess.Run("read", "--json", "--no-summary", "--threads", "1", path);
        Assert.True(run.ExitCode == 0, run.StdErr);
        return run.StdOutLines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private static List<JsonObject> Expected(string path) =>
        File.ReadAllLines(Path.ChangeExtension(path, ".expected.jsonl")).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static List<string> Capabilities(JsonObject server) => server["capabilities"]!.AsArray().Select(c => (string)c!).ToList();

    [Theory]
    [MemberData(nameof(DovecotCaptures))]
    public void EachDovecotCaptureEndsWithItsOneServerAsItWasConfigured(string name)
    {
        var path = Path.Combine(RepoPaths.Pcaps, "dovecot", name + ".pcap");
        var events = Read(path);
        var expected = Expected(path);
        var auths = expected.Where(e => (string?)e["event_type"] == "auth").ToList();

        var report = Assert.Single(events, e => (string?)e["event_type"] == "server");
        Assert.Same(report, events[^1]); // after every finding of the file
        bool imap = name.StartsWith("imap-", StringComparison.Ordinal);
        int port = name.Contains("port-2143") ? 2143 : name.Contains("port-2110") ? 2110 : imap ? 143 : 110;
        Assert.Equal("127.0.0.1", (string?)report["dest_ip"]);
        Assert.Equal(port, (int)report["dest_port"]!);
        Assert.Equal(imap ? "imap" : "pop3", (string?)report["app_proto"]);
        Assert.False(report.ContainsKey("src_ip"));
        Assert.False(report.ContainsKey("flow_id"));

        var s = report["server"]!.AsObject();
        Assert.Equal(auths.Count, (long)s["logins"]!);
        Assert.Equal(auths.Count(a => (string?)a["auth"]!["outcome"] == "failure"), (long)s["logins_failed"]!);
        Assert.Equal(auths.Count(a => (string?)a["auth"]!["exposure"] == "cleartext"), (long)s["cleartext_logins"]!);
        Assert.Equal(auths.Count(a => (string?)a["auth"]!["exposure"] == "cleartext" && (string?)a["auth"]!["outcome"] == "success"),
            (long)s["cleartext_logins_accepted"]!);
        Assert.Equal(expected.Count(e => (string?)e["event_type"] == "starttls" && (string?)e["tls"]!["outcome"] == "success"),
            (long)s["starttls_upgrades"]!);
        var first = DateTime.Parse((string)s["first_seen"]!).ToUniversalTime();
        var last = DateTime.Parse((string)s["last_seen"]!).ToUniversalTime();
        Assert.True(first <= last && last <= DateTime.Parse((string)report["timestamp"]!).ToUniversalTime());

        // The plaintext-disabled instance's clients connect from 127.0.0.2 (the README): every one of its captures has a login attempt.
        bool disabled = expected.Any(e => (string?)e["src_ip"] == "127.0.0.2");
        Assert.Equal(DisabledInstance.Contains(name) || (name.EndsWith("-refused", StringComparison.Ordinal) && !name.Contains("tls-refused")), disabled);
        var caps = Capabilities(s);
        if (imap)
        {
            // Dovecot's greeting carries its capability list ([CAPABILITY ...], RFC 3501 §7.1): always seen.
            Assert.True((bool)s["starttls_offered"]!);
            Assert.Equal(disabled, (bool)s["login_disabled"]!);
            Assert.Contains("STARTTLS", caps);
            Assert.Contains("AUTH=CRAM-MD5", caps);
            Assert.Contains("AUTH=DIGEST-MD5", caps);
            Assert.Equal(!disabled, caps.Contains("AUTH=PLAIN") && caps.Contains("AUTH=LOGIN"));
            Assert.Equal(disabled, caps.Contains("LOGINDISABLED"));
        }
        else
        {
            // POP3 lists capabilities only when asked (CAPA, RFC 2449): unknown unless the client asked, never "not offered".
            Assert.False(s["starttls_offered"] is JsonValue v && !(bool)v);
            Assert.False((bool)s["login_disabled"]!);
            if (caps.Count > 0)
            {
                Assert.True((bool)s["starttls_offered"]!);
                Assert.Contains("STLS", caps);
                Assert.Contains("SASL", caps);
                Assert.Contains("AUTH=CRAM-MD5", caps);
                Assert.Equal(!disabled, caps.Contains("USER") && caps.Contains("AUTH=PLAIN") && caps.Contains("AUTH=LOGIN"));
            }
        }
    }

    [Theory]
    [InlineData("""{ "Inventory": { "MaxServers": 0 } }""")]
    [InlineData("""{ "Inventory": { "IntervalSeconds": 0 } }""")]
    [InlineData("""{ "Inventory": { "MaxServers": 2000000 } }""")]
    public void AnImpossibleInventorySettingIsOneLineAndExitTwo(string json)
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-inventory-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, json);
        try
        {
            var run = SensorProcess.Run("read", "--config", config, Path.Combine(RepoPaths.Pcaps, "dovecot", "pop3-capa.pcap"));
            Assert.Equal(2, run.ExitCode);
            Assert.Empty(run.StdOut);
            Assert.Equal("sensor: Inventory: IntervalSeconds must be at least 1 and MaxServers between 1 and 1000000", run.StdErr.Trim());
        }
        finally { File.Delete(config); }
    }

    [Fact]
    public void ThePop3CapaCaptureListsEveryMechanismDovecotWasGiven()
    {
        var report = Assert.Single(Read(Path.Combine(RepoPaths.Pcaps, "dovecot", "pop3-capa.pcap")), e => (string?)e["event_type"] == "server");
        var caps = Capabilities(report["server"]!.AsObject());
        // apop is not a SASL mechanism: it is a POP3 command (RFC 1939 §7), named in no capability.
        Assert.Equal(["STLS", "USER", "SASL", "PIPELINING", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5", "AUTH=DIGEST-MD5"], caps);
    }

    [Fact]
    public void PostfixServersShowWhetherTheyOfferAuthBeforeStartTls()
    {
        var smtp = Path.Combine(RepoPaths.Pcaps, "smtp");
        int seen2525 = 0, seen2587 = 0, seen2526 = 0;
        foreach (var path in Directory.GetFiles(smtp, "smtp-*.pcap"))
        {
            var report = Assert.Single(Read(path), e => (string?)e["event_type"] == "server");
            var s = report["server"]!.AsObject();
            var caps = Capabilities(s);
            if (caps.Count == 0) continue; // no EHLO reply seen (a client that never sent EHLO)
            switch ((int)report["dest_port"]!)
            {
                case 2525:
                    seen2525++;
                    Assert.True((bool)s["auth_before_starttls"]!, path);
                    Assert.True((bool)s["starttls_offered"]!, path);
                    Assert.Contains("AUTH", caps);
                    Assert.Contains("AUTH=PLAIN", caps);
                    break;
                case 2587:
                    seen2587++;
                    // smtpd_tls_auth_only: the cleartext EHLO reply lists no AUTH (AUTH comes after STARTTLS, unseen).
                    Assert.False((bool)s["auth_before_starttls"]!, path);
                    Assert.DoesNotContain("AUTH", caps);
                    Assert.True((bool)s["starttls_offered"]!, path);
                    break;
                case 2526:
                    seen2526++;
                    Assert.DoesNotContain("AUTH", caps);
                    Assert.DoesNotContain(caps, c => c.StartsWith("AUTH=", StringComparison.Ordinal));
                    break;
            }
        }
        Assert.True(seen2525 > 3 && seen2587 > 0 && seen2526 > 0, $"2525: {seen2525}, 2587: {seen2587}, 2526: {seen2526}");
    }

    [Fact]
    public void ACaptureOfManyServersReportsEachOnceInAddressOrder()
    {
        // 20 interleaved sessions (crafted/make-crafted.py): one server event per server, every login counted once.
        var path = Path.Combine(RepoPaths.Pcaps, "crafted", "many-flows-interleaved.pcap");
        var events = Read(path);
        var servers = events.Where(e => (string?)e["event_type"] == "server").ToList();
        var logins = events.Where(e => (string?)e["event_type"] == "auth").ToList();
        Assert.Equal(logins.Select(l => ((string)l["app_proto"]!, (string)l["dest_ip"]!, (int)l["dest_port"]!)).Distinct().Count(), servers.Count);
        Assert.Equal(logins.Count, servers.Sum(s => (long)s["server"]!["logins"]!));
        var keys = servers.Select(s => ((string)s["app_proto"]!, System.Net.IPAddress.Parse((string)s["dest_ip"]!), (int)s["dest_port"]!)).ToList();
        Assert.Equal(keys.OrderBy(k => k.Item1 == "imap" ? 0 : k.Item1 == "pop3" ? 1 : 2)
            .ThenBy(k => System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(k.Item2.MapToIPv6().GetAddressBytes()))
            .ThenBy(k => k.Item3), keys);
    }
}
