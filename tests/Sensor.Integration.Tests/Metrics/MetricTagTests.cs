using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Integration.Tests.Grafana;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// Attacker text stays out of metric tags: the mechanism tag is one of a fixed set whatever a
/// client sends after AUTHENTICATE/AUTH, and no other tag carries wire text. The event keeps the
/// real name. Pure formatting, no database.
/// </summary>
public sealed class MetricTagTests
{
    private static readonly IpEndpoint Client = IpEndpoint.Parse("10.0.0.1", 40000);
    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.0.0.2", 143);

    /// <summary>Mirrored over ERSPAN, in VXLAN 42 on VLAN 7 (VLANs separating connections).</summary>
    private static readonly Encapsulation Tenant = TenantOf((TunnelKind.Erspan, 3, false), (TunnelKind.Vlan, 7, true), (TunnelKind.Vxlan, 42, true));

    private static Encapsulation TenantOf(params (TunnelKind Kind, uint Id, bool Separates)[] layers)
    {
        var t = new Encapsulation();
        foreach (var (kind, id, separates) in layers) t.Add(kind, id, separates);
        return t;
    }

    [Fact]
    public void ATenantNetworkIsATagOnEveryMeasurementAndPlainTrafficHasNone()
    {
        var points = new LineProtocolPoints("s1");
        Assert.False(Parse(points.From(Auth("LOGIN"))!).Tags.ContainsKey("tenant"));
        Assert.Equal("vxlan:100", Tag(points.From(Auth("LOGIN") with { Tunnel = TenantOf((TunnelKind.Vxlan, 100, true)) })!, "tenant"));
        // Layers that name no tenant (ERSPAN's session, MPLS labels, VLANs left shared) make no tag.
        Assert.False(Parse(points.From(Auth("LOGIN") with { Tunnel = TenantOf((TunnelKind.Erspan, 5, false), (TunnelKind.Vlan, 9, false)) })!).Tags.ContainsKey("tenant"));
        // Two tenants, two series: the same server address in each is not one server to Grafana.
        var a = points.From(Auth("LOGIN") with { Tunnel = TenantOf((TunnelKind.Vxlan, 100, true)) })!;
        var b = points.From(Auth("LOGIN") with { Tunnel = TenantOf((TunnelKind.Vxlan, 200, true)) })!;
        Assert.NotEqual(a.Split(' ')[0], b.Split(' ')[0]);
    }

    private static AuthAttempt Auth(string mechanism, string? user = "alice") => new()
    {
        TimestampNs = 1_735_812_000_000_000_000,
        FlowId = "0123456789abcdef",
        Client = Client,
        Server = Server,
        Protocol = AppProtocol.Imap,
        Mechanism = mechanism,
        Username = user,
        Secret = "hunter2",
        Exposure = CredentialExposure.Unknown,
        Outcome = AuthOutcome.Failure,
    };

    public static TheoryData<string> HostileMechanisms() => new(
        "AUTH=X-EVIL\u001b[31M",
        "AUTH=PLAIN\r\nmail_auth,sensor=fake count=1i",
        "AUTH=PLAIN,server=1.2.3.4",
        "AUTH=PLAIN mechanism=LOGIN",
        "AUTH=" + new string('A', 16_000),
        "AUTH=SCRAM-SHA-512",
        "AUTH=\u202ENIALP",
        "AUTH=",
        "AUTH=PLAIN\0",
        "AUTH=PLAIN ",
        "PLAIN",
        "");

    [Theory]
    [MemberData(nameof(HostileMechanisms))]
    public void AnyOtherMechanismIsTaggedAuthOtherAndTheEventKeepsItsRealName(string mechanism)
    {
        var e = Auth(mechanism);
        var line = new LineProtocolPoints("s1").From(e)!;

        Assert.Equal("AUTH=other", Tag(line, "mechanism"));
        Assert.DoesNotContain('\n', line);
        Assert.Equal(mechanism, (string?)JsonNode.Parse(JsonEventFormatter.ToJson(e))!["auth"]!["mechanism"]);
    }

    [Fact]
    public void EveryKnownMechanismIsItsOwnTagInAnyCase()
    {
        foreach (var tag in MechanismTag.Values.Where(v => v != MechanismTag.Other))
        {
            Assert.Equal(tag, MechanismTag.Of(tag));
            Assert.Equal(tag, MechanismTag.Of(tag.ToLowerInvariant()));
            Assert.Equal(tag, Tag(new LineProtocolPoints("s1").From(Auth(tag))!, "mechanism"));
        }
        Assert.Equal(18, MechanismTag.Values.Count);
    }

    [Fact]
    public void AHundredThousandDistinctMechanismNamesMakeNoMoreTagValuesThanTheFixedSet()
    {
        var points = new LineProtocolPoints("s1");
        var rng = new Random(42);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 100_000; i++)
        {
            var name = i % 3 == 0 ? $"AUTH=X-{i}" : "AUTH=" + string.Concat(Enumerable.Range(0, rng.Next(1, 20)).Select(_ => (char)rng.Next(0x20, 0x7F)));
            seen.Add(Tag(points.From(Auth(name))!, "mechanism"));
        }
        Assert.Subset(new HashSet<string>(MechanismTag.Values), seen);
    }

    [Fact]
    public void NoTagOfAnyMeasurementCarriesWireText()
    {
        const string evil = "evil\r\n\u001b[2J, =\"\\";
        var points = new LineProtocolPoints("sensor-1");
        var events = new SensorEvent[]
        {
            // With home networks and in a tenant network: the optional direction and tenant tags are there too.
            Auth("AUTH=" + evil, user: evil) with { Direction = Sensor.Core.Site.TrafficDirection.Outbound, Tunnel = Tenant },
            new StartTlsUpgrade
            {
                TimestampNs = 1, FlowId = "f", Client = Client, Server = Server, Protocol = AppProtocol.Pop3, Tunnel = Tenant,
                Outcome = AuthOutcome.Success,
            },
            new PasswordGuessing
            {
                TimestampNs = 2, FlowId = "f", Client = Client, Server = Server, Protocol = AppProtocol.Imap, Tunnel = Tenant,
                Kind = GuessingKind.Guessing, Failures = 10, DistinctUsernames = 1, Username = evil, WindowSeconds = 300,
            },
            new ServerReport
            {
                TimestampNs = 3, FlowId = "f", Client = Client, Server = Server, Protocol = AppProtocol.Imap, Tunnel = Tenant,
                FirstSeenNs = 1, LastSeenNs = 2, LoginDisabled = false, AuthBeforeStartTls = false,
                Capabilities = MailCapabilities.AuthPlain, Logins = 1, LoginsFailed = 0, CleartextLogins = 1,
                CleartextLoginsAccepted = 1, StartTlsUpgrades = 0, Inside = true, Evicted = false,
            },
        };
        foreach (var e in events)
        {
            var line = points.From(e)!;
            Assert.DoesNotContain("evil", line);
            var (measurement, tags) = Parse(line);
            Assert.Equal(GrafanaProvisioning.Schema[measurement].Tags.Order(), tags.Keys.Order());
            foreach (var (key, value) in tags)
            {
                if (key is "server" or "client") Assert.True(IPAddress.TryParse(value, out _), $"{key}={value}");
                else if (key == "sensor") Assert.Equal("sensor-1", value);
                else if (key == "tenant") Assert.Equal("vlan:7 vxlan:42", value); // the ERSPAN layer names no tenant
                else if (key == "port") Assert.Equal(Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
                else Assert.Contains(value, GrafanaProvisioning.TagValues[key]);
            }
        }
    }

    /// <summary>The measurement and tags of one line-protocol point, backslash escapes undone.</summary>
    private static (string Measurement, Dictionary<string, string> Tags) Parse(string line)
    {
        var pieces = new List<string>(); // measurement, then key, value, key, value...
        var current = new StringBuilder();
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length) { current.Append(line[++i]); continue; }
            if (c == ' ') break; // the end of the series key
            if (c == ',' || (c == '=' && pieces.Count % 2 == 1))
            {
                pieces.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        pieces.Add(current.ToString());
        var tags = new Dictionary<string, string>();
        for (int i = 1; i + 1 < pieces.Count; i += 2) tags.Add(pieces[i], pieces[i + 1]);
        Assert.Equal(1, pieces.Count % 2);
        return (pieces[0], tags);
    }

    private static string Tag(string line, string key) => Parse(line).Tags[key];
}
