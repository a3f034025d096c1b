namespace Sensor.Core.Tests.Mail;

/// <summary>
/// The server inventory: what each server's events add up to, the cap (least recently seen goes,
/// counted and reported), the fixed report order, and periodic reports on packet time.
/// </summary>
public sealed class ServerInventoryTests
{
    private const long Second = 1_000_000_000L;
    private static readonly IpEndpoint Client = IpEndpoint.Parse("198.51.100.7", 50000);

    private static IpEndpoint Server(int i) => IpEndpoint.Parse($"192.0.2.{i}", 143);

    private static AuthAttempt Login(IpEndpoint server, long t, CredentialExposure exposure, AuthOutcome outcome) => new()
    {
        TimestampNs = t, FlowId = $"f{t}", Client = Client, Server = server, Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN", Exposure = exposure, Outcome = outcome,
    };

    private static ServerCapabilities Caps(IpEndpoint server, long t, bool startTls, bool loginDisabled, MailCapabilities names) => new()
    {
        TimestampNs = t, FlowId = $"f{t}", Client = Client, Server = server, Protocol = AppProtocol.Imap,
        OffersStartTls = startTls, LoginDisabled = loginDisabled, Names = names,
    };

    [Fact]
    public void AServersReportAddsUpItsLoginsAndCapabilities()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink);
        var s = Server(1);
        tracker.Emit(Caps(s, 1 * Second, startTls: true, loginDisabled: false, MailCapabilities.StartTls | MailCapabilities.AuthPlain));
        tracker.Emit(Login(s, 2 * Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        tracker.Emit(Login(s, 3 * Second, CredentialExposure.Cleartext, AuthOutcome.Failure));
        tracker.Emit(Login(s, 4 * Second, CredentialExposure.Hashed, AuthOutcome.Success));
        tracker.Emit(Caps(s, 5 * Second, startTls: false, loginDisabled: true, MailCapabilities.LoginDisabled));
        tracker.Report(9 * Second);

        var r = Assert.Single(sink.Events.OfType<ServerReport>());
        Assert.Equal(9 * Second, r.TimestampNs);
        Assert.Equal((1 * Second, 5 * Second), (r.FirstSeenNs, r.LastSeenNs));
        Assert.Equal((3L, 1L, 2L, 1L), (r.Logins, r.LoginsFailed, r.CleartextLogins, r.CleartextLoginsAccepted));
        Assert.True(r.OffersStartTls); // a shorter list later does not undo an offer seen
        Assert.True(r.LoginDisabled);
        Assert.Equal(MailCapabilities.StartTls | MailCapabilities.AuthPlain | MailCapabilities.LoginDisabled, r.Capabilities);
        Assert.False(r.Evicted);
        Assert.Null(r.Inside);
    }

    private static Encapsulation Vxlan(uint vni)
    {
        var t = new Encapsulation();
        t.Add(TunnelKind.Vxlan, vni, separatesTenants: true);
        return t;
    }

    [Fact]
    public void TheSameAddressInTwoTenantNetworksIsTwoServersEachReportedWithItsTunnel()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink);
        var s = Server(5);
        tracker.Emit(Caps(s, 1 * Second, startTls: true, loginDisabled: false, MailCapabilities.StartTls) with { Tunnel = Vxlan(100) });
        tracker.Emit(Login(s, 2 * Second, CredentialExposure.Cleartext, AuthOutcome.Success) with { Tunnel = Vxlan(100) });
        tracker.Emit(Login(s, 3 * Second, CredentialExposure.Cleartext, AuthOutcome.Failure) with { Tunnel = Vxlan(200) });
        tracker.Emit(Login(s, 4 * Second, CredentialExposure.Cleartext, AuthOutcome.Failure) with { Tunnel = Vxlan(200) });
        tracker.Emit(Login(s, 5 * Second, CredentialExposure.Hashed, AuthOutcome.Success)); // plain traffic: a third server

        // The login in VNI 200 is not stamped with VNI 100's STARTTLS offer.
        var stamped = sink.Events.OfType<AuthAttempt>().Select(a => a.ServerOffersStartTls).ToList();
        Assert.Equal(new bool?[] { true, null, null, null }, stamped);

        tracker.Report(9 * Second);
        var reports = sink.Events.OfType<ServerReport>().ToList();
        Assert.Equal(3, reports.Count);
        var byTenant = reports.ToDictionary(r => r.Tunnel.Tenant ?? "plain");
        Assert.Equal((1L, 0L, true), (byTenant["vxlan:100"].Logins, byTenant["vxlan:100"].LoginsFailed, byTenant["vxlan:100"].OffersStartTls == true));
        Assert.Equal((2L, 2L, (bool?)null), (byTenant["vxlan:200"].Logins, byTenant["vxlan:200"].LoginsFailed, byTenant["vxlan:200"].OffersStartTls));
        Assert.Equal((1L, 0L), (byTenant["plain"].Logins, byTenant["plain"].CleartextLogins));
        Assert.True(byTenant["plain"].Tunnel.IsEmpty);
        Assert.Equal(2, tracker.Servers.Find(s, AppProtocol.Imap, Vxlan(200).Realm)!.Logins);
        Assert.Equal(1, tracker.Servers.Find(s, AppProtocol.Imap)!.Logins);
    }

    [Fact]
    public void LayersThatNameNoTenantLeaveTheServerWhereItWas()
    {
        // An ERSPAN session and MPLS labels describe the path, not the network: one server, whatever the path.
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink);
        var mirrored = new Encapsulation();
        mirrored.Add(TunnelKind.Erspan, 101, separatesTenants: false);
        mirrored.Add(TunnelKind.Mpls, 16, separatesTenants: false);
        tracker.Emit(Login(Server(6), 1 * Second, CredentialExposure.Cleartext, AuthOutcome.Success) with { Tunnel = mirrored });
        tracker.Emit(Login(Server(6), 2 * Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        Assert.Equal(1, tracker.Servers.Count);
        Assert.Null(mirrored.Tenant);
    }

    [Fact]
    public void AtTheCapTheLeastRecentlySeenServerIsReportedAndForgottenAndCounted()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink, maxServers: 2);
        tracker.Emit(Login(Server(1), 1 * Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        tracker.Emit(Login(Server(2), 2 * Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        tracker.Emit(Login(Server(1), 3 * Second, CredentialExposure.Cleartext, AuthOutcome.Success)); // 1 is now the more recent
        tracker.Emit(Login(Server(3), 4 * Second, CredentialExposure.Cleartext, AuthOutcome.Failure));

        var evicted = Assert.Single(sink.Events.OfType<ServerReport>());
        Assert.Equal(Server(2), evicted.Server);
        Assert.True(evicted.Evicted);
        Assert.Equal(4 * Second, evicted.TimestampNs);
        Assert.Equal(1, tracker.Servers.Evicted);
        Assert.Equal(2, tracker.Servers.Count);
        Assert.NotNull(tracker.Servers.Find(Server(1), AppProtocol.Imap));
        Assert.Null(tracker.Servers.Find(Server(2), AppProtocol.Imap));
        Assert.Equal(2, tracker.Servers.Find(Server(1), AppProtocol.Imap)!.Logins);
    }

    [Fact]
    public void ReportsComeInProtocolAddressAndPortOrderWhateverTheArrivalOrder()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink);
        var arrivals = new[] { IpEndpoint.Parse("192.0.2.9", 143), IpEndpoint.Parse("2001:db8::1", 143), IpEndpoint.Parse("192.0.2.1", 993),
            IpEndpoint.Parse("192.0.2.1", 143), IpEndpoint.Parse("10.0.0.1", 143) };
        long t = Second;
        foreach (var s in arrivals) tracker.Emit(Login(s, t += Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        tracker.Emit(Login(arrivals[0], t += Second, CredentialExposure.Cleartext, AuthOutcome.Success) with { Protocol = AppProtocol.Pop3 });
        tracker.Report(t);

        var order = sink.Events.OfType<ServerReport>().Select(r => $"{r.Protocol} {r.Server}").ToList();
        Assert.Equal(["Imap 10.0.0.1:143", "Imap 192.0.2.1:143", "Imap 192.0.2.1:993", "Imap 192.0.2.9:143", "Imap [2001:db8::1]:143", "Pop3 192.0.2.9:143"], order);
    }

    [Fact]
    public void PeriodicReportsFollowPacketTimeNotTheWallClock()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink, reportInterval: TimeSpan.FromMinutes(5));
        long start = 1_700_000_000 * Second;
        tracker.Tick(start); // starts the period
        tracker.Emit(Login(Server(1), start + Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        tracker.Tick(start + 299 * Second);
        Assert.Empty(sink.Events.OfType<ServerReport>());
        tracker.Tick(start + 300 * Second);
        var first = Assert.Single(sink.Events.OfType<ServerReport>());
        Assert.Equal(start + 300 * Second, first.TimestampNs);
        // A burst of packets in the same period reports nothing more; the next period does.
        for (int i = 1; i < 100; i++) tracker.Tick(start + 300 * Second + i);
        Assert.Single(sink.Events.OfType<ServerReport>());
        tracker.Tick(start + 601 * Second);
        Assert.Equal(2, sink.Events.OfType<ServerReport>().Count());
    }

    [Fact]
    public void WithoutAnIntervalTheClockNeverReports()
    {
        var sink = new CollectingSink();
        var tracker = new ServerPostureTracker(sink);
        tracker.Emit(Login(Server(1), Second, CredentialExposure.Cleartext, AuthOutcome.Success));
        for (long t = 0; t < 10_000; t++) tracker.Tick(t * 3600 * Second);
        Assert.Empty(sink.Events.OfType<ServerReport>());
        Assert.Equal(9_999 * 3600 * Second, tracker.ClockNs);
    }
}
