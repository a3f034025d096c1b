using Sensor.Core.Guessing;
using Sensor.Core.Tests.Support;

namespace Sensor.Core.Tests.Guessing;

public sealed class PasswordGuessingDetectorTests
{
    private const long Second = 1_000_000_000L;
    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.0.0.2", 143);

    private static AuthAttempt Failure(string client, string user, long ts, AuthOutcome outcome = AuthOutcome.Failure) => new()
    {
        TimestampNs = ts,
        FlowId = "f",
        Client = IpEndpoint.Parse(client, 40000),
        Server = Server,
        Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN",
        Username = user,
        Exposure = CredentialExposure.Cleartext,
        Outcome = outcome,
    };

    private static (PasswordGuessingDetector Detector, CollectingSink Sink) Make(int failures = 10, int spray = 5) =>
        Make(new GuessingThresholds { Failures = failures, SprayUsernames = spray, Window = TimeSpan.FromMinutes(5) });

    private static (PasswordGuessingDetector, CollectingSink) Make(GuessingThresholds t)
    {
        var sink = new CollectingSink();
        return (new PasswordGuessingDetector(sink, t), sink);
    }

    [Fact]
    public void TenFailuresFromOneClientRaiseOneGuessingAlertAndEveryEventStillPassesThrough()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 25; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second));
        var alerts = sink.Events.OfType<PasswordGuessing>().ToList();
        var alert = Assert.Single(alerts);
        Assert.Equal(GuessingKind.Guessing, alert.Kind);
        Assert.Equal(10, alert.Failures);
        Assert.Equal(9 * Second, alert.TimestampNs);
        Assert.Equal(25, sink.Auths.Count);
    }

    private static Encapsulation Vxlan(uint vni)
    {
        var t = new Encapsulation();
        t.Add(TunnelKind.Vxlan, vni, separatesTenants: true);
        return t;
    }

    [Fact]
    public void TheSameClientAddressInTwoTenantNetworksIsTwoClientsAndTheAlertNamesItsTunnel()
    {
        var (d, sink) = Make(failures: 10, spray: 50);
        // Six failures from 10.1.1.1 in each of two VXLAN tenants, different usernames: no client or account reaches ten.
        for (int i = 0; i < 6; i++)
        {
            d.Emit(Failure("10.1.1.1", $"a{i}", i * Second) with { Tunnel = Vxlan(100) });
            d.Emit(Failure("10.1.1.1", $"b{i}", i * Second) with { Tunnel = Vxlan(200) });
        }
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal(2, d.ClientsTracked);

        // Four more in VNI 200 make ten there: one alert, for that tenant.
        for (int i = 6; i < 10; i++) d.Emit(Failure("10.1.1.1", $"b{i}", i * Second) with { Tunnel = Vxlan(200) });
        var alert = Assert.Single(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal(10, alert.Failures);
        Assert.Equal("vxlan:200", alert.Tunnel.Tenant);
    }

    [Fact]
    public void OneUsernameInTwoTenantNetworksIsTwoAccounts()
    {
        var (d, sink) = Make(failures: 10);
        // alice fails six times in each tenant, each time from another client: neither account reaches ten.
        for (int i = 0; i < 6; i++)
        {
            d.Emit(Failure($"10.1.1.{i + 1}", "alice", i * Second) with { Tunnel = Vxlan(100) });
            d.Emit(Failure($"10.1.2.{i + 1}", "alice", i * Second) with { Tunnel = Vxlan(200) });
        }
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal(2, d.UsernamesTracked);
        // Plain traffic is a realm of its own: the same six there do not tip either tenant over.
        for (int i = 0; i < 6; i++) d.Emit(Failure($"10.1.3.{i + 1}", "alice", (6 + i) * Second));
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
        for (int i = 0; i < 4; i++) d.Emit(Failure($"10.1.3.{i + 7}", "alice", (12 + i) * Second));
        var alert = Assert.Single(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal("alice", alert.Username);
        Assert.Null(alert.Tunnel.Tenant);
    }

    [Fact]
    public void NineFailuresAreNotAnAlert()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 9; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second));
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
    }

    [Fact]
    public void FailuresSpreadBeyondTheWindowAreNotAnAlert()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 30; i++) d.Emit(Failure("10.1.1.1", "alice", i * 40 * Second)); // 7.5 per 5 minutes
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
    }

    /// <summary>
    /// `sensor read` of captures recorded at different times, the later one first: packet time goes
    /// back by more than a window between them, and failures from the two must not add up.
    /// </summary>
    [Fact]
    public void FailuresFromCapturesHalfAnHourApartReadLaterFirstAreNotAnAlert()
    {
        var (d, sink) = Make();
        long later = 30 * 60 * Second;
        for (int i = 0; i < 6; i++) d.Emit(Failure("10.1.1.1", "alice", later + i * Second));
        for (int i = 0; i < 6; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second));
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());

        // Within one capture, ten failures still make an episode after the jump back.
        for (int i = 6; i < 10; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second));
        Assert.Single(sink.Events.OfType<PasswordGuessing>());
    }

    [Fact]
    public void SuccessesDoNotCount()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 30; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second, AuthOutcome.Success));
        Assert.Empty(sink.Events.OfType<PasswordGuessing>());
    }

    [Fact]
    public void OneClientTryingFiveUsernamesIsSpraying()
    {
        var (d, sink) = Make();
        foreach (var (user, i) in new[] { "a", "b", "c", "d", "e" }.Select((u, i) => (u, i))) d.Emit(Failure("10.1.1.9", user, i * Second));
        var alert = Assert.Single(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal(GuessingKind.Spraying, alert.Kind);
        Assert.Equal(5, alert.DistinctUsernames);
        Assert.Equal("10.1.1.9", alert.Client.AddressText);
    }

    [Fact]
    public void ManyClientsAgainstOneAccountAreGuessingAgainstThatUsername()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 10; i++) d.Emit(Failure($"10.1.2.{i + 1}", "root", i * Second));
        var alert = Assert.Single(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal("root", alert.Username);
    }

    [Fact]
    public void ANewEpisodeAfterAQuietWindowAlertsAgain()
    {
        var (d, sink) = Make();
        for (int i = 0; i < 10; i++) d.Emit(Failure("10.1.1.1", "alice", i * Second));
        for (int i = 0; i < 10; i++) d.Emit(Failure("10.1.1.1", "alice", 3600 * Second + i * Second));
        Assert.Equal(2, sink.Events.OfType<PasswordGuessing>().Count(g => g.Username is null));
    }

    [Fact]
    public void TrackedClientsAreBounded()
    {
        var (d, sink) = Make(new GuessingThresholds { MaxClients = 100, MaxUsernames = 100 });
        for (int i = 0; i < 10_000; i++) d.Emit(Failure($"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}", $"u{i}", i));
        // Each client failed once: no alert; and the detector did not grow without bound (no exception, finished).
        Assert.DoesNotContain(sink.Events.OfType<PasswordGuessing>(), g => g.Kind == GuessingKind.Spraying);
        Assert.Equal(10_000, sink.Auths.Count);
    }
}
