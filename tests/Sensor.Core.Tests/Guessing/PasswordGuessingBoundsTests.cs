using Sensor.Core.Guessing;
using Sensor.Core.Tests.Robustness;

namespace Sensor.Core.Tests.Guessing;

/// <summary>
/// The detector under a flood of one-off failures from distinct clients (what a botnet or a
/// spoofing attacker produces): its tables never pass their caps, evictions are counted exactly,
/// retained memory stays flat, and a real episode in the middle of the flood is still reported.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class PasswordGuessingBoundsTests
{
    private const long Microsecond = 1_000L;
    private const long Second = 1_000_000_000L;
    private const int Flood = 1_000_000;
    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.0.0.2", 143);

    private sealed class CountingSink : IEventSink
    {
        public long Events;
        public List<PasswordGuessing> Alerts { get; } = new();

        public void Emit(SensorEvent e)
        {
            Events++;
            if (e is PasswordGuessing g) Alerts.Add(g);
        }
    }

    /// <summary>A failure from 10.x.y.z (one address per <paramref name="i"/>) with a username of its own.</summary>
    private static AuthAttempt OneOff(int i, long ts) => Failure(V4(0x0A00_0000u + (uint)i), "u" + i, ts);

    private static UInt128 V4(uint address) => ((UInt128)0xFFFF << 32) | address;

    private static AuthAttempt Failure(UInt128 client, string? user, long ts) => new()
    {
        TimestampNs = ts,
        FlowId = "f",
        Client = new IpEndpoint(client, 40000),
        Server = Server,
        Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN",
        Username = user,
        Exposure = CredentialExposure.Cleartext,
        Outcome = AuthOutcome.Failure,
    };

    [Fact]
    public void AMillionDistinctFailingClientsNeverHoldMoreThanTheCapsAndEveryEvictionIsCounted()
    {
        var thresholds = new GuessingThresholds();
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, thresholds);
        long retainedAtQuarter = 0;
        int maxClients = 0, maxUsernames = 0;

        for (int i = 0; i < Flood; i++)
        {
            d.Emit(OneOff(i, i * Microsecond)); // the whole flood inside one window: only the caps can save memory
            maxClients = Math.Max(maxClients, d.ClientsTracked);
            maxUsernames = Math.Max(maxUsernames, d.UsernamesTracked);
            if (i == Flood / 4) retainedAtQuarter = Retained();
        }
        long retainedAtEnd = Retained();

        Assert.Equal(thresholds.MaxClients, maxClients);
        Assert.Equal(thresholds.MaxUsernames, maxUsernames);
        Assert.Equal(Flood - thresholds.MaxClients, d.ClientsEvicted);
        Assert.Equal(Flood - thresholds.MaxUsernames, d.UsernamesEvicted);
        Assert.Equal(2L * Flood - thresholds.MaxClients - thresholds.MaxUsernames, d.TracksEvicted);
        Assert.Empty(sink.Alerts);
        Assert.Equal(Flood, sink.Events);
        // Evicted tracks are reused: the last three quarters of the flood leave nothing behind.
        Assert.True(retainedAtEnd - retainedAtQuarter < 1024 * 1024,
            $"retained memory grew by {retainedAtEnd - retainedAtQuarter:N0} bytes over 750,000 failures");
        GC.KeepAlive(d);
    }

    [Fact]
    public void AnAccountUnderAttackAndAGuessingClientAreStillFoundAmidAFloodOfOneOffFailures()
    {
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, new GuessingThresholds());
        var guesser = V4(0xC0A8_0001u); // 192.168.0.1
        int rootAttempts = 0, guesses = 0;

        for (int i = 0; i < Flood; i++)
        {
            long ts = i * Microsecond;
            d.Emit(OneOff(i, ts));
            // "root" from ten different clients, 20,000 flood failures apart (fewer than the caps)...
            if (i % 20_000 == 10_000 && rootAttempts < 10)
                d.Emit(Failure(V4(0xC0A8_0100u + (uint)rootAttempts++), "root", ts));
            // ...and one client guessing alice's password, 30,000 flood failures apart.
            if (i % 30_000 == 15_000 && guesses < 10)
            {
                d.Emit(Failure(guesser, "alice", ts));
                guesses++;
            }
        }

        Assert.True(d.TracksEvicted > 1_800_000);
        Assert.Equal(2, sink.Alerts.Count);
        var account = Assert.Single(sink.Alerts, g => g.Username == "root");
        Assert.Equal(GuessingKind.Guessing, account.Kind);
        Assert.Equal(10, account.Failures);
        var client = Assert.Single(sink.Alerts, g => g.Client.Address == guesser);
        Assert.Equal(GuessingKind.Guessing, client.Kind);
        Assert.Null(client.Username);
        Assert.Equal(10, client.Failures);
        Assert.Equal(1, client.DistinctUsernames);
    }

    [Fact]
    public void AnEpisodeIsForgottenWhenItsClientIsEvictedAndTheEvictionIsCounted()
    {
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, new GuessingThresholds { MaxClients = 100, MaxUsernames = 100 });
        var guesser = V4(0xC0A8_0001u);
        for (int i = 0; i < 9; i++) d.Emit(Failure(guesser, null, i * Second));
        for (int i = 0; i < 100; i++) d.Emit(OneOff(i, 10 * Second)); // pushes the guesser out
        d.Emit(Failure(guesser, null, 11 * Second));

        Assert.Equal(2, d.ClientsEvicted); // the guesser, then the oldest one-off to make room for it again
        Assert.Equal(0, d.UsernamesEvicted); // the guesser sent none: only the one-offs' 100
        Assert.Empty(sink.Alerts);
        Assert.Equal(100, d.ClientsTracked);
    }

    [Fact]
    public void TracksIdleForAWholeWindowExpireByPacketTimeWithoutCountingAsEvictions()
    {
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, new GuessingThresholds { MaxClients = 100, MaxUsernames = 100 });
        for (int i = 0; i < 150; i++) d.Emit(OneOff(i, i * Microsecond));
        Assert.Equal(50, d.ClientsEvicted);
        Assert.Equal(50, d.UsernamesEvicted);

        // An hour of packet time later (no wall time passes): the old tracks expire, the new ones fit.
        for (int i = 0; i < 10; i++) d.Emit(OneOff(1_000 + i, 3600 * Second));
        Assert.Equal(10, d.ClientsTracked);
        Assert.Equal(10, d.UsernamesTracked);
        Assert.Equal(50, d.ClientsEvicted);
        Assert.Equal(50, d.UsernamesEvicted);
    }

    [Fact]
    public void SprayingIsFoundAfterManyFailuresWithOneUsername()
    {
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, new GuessingThresholds { Failures = 50, SprayUsernames = 5 });
        var client = V4(0x0A01_0101u);
        for (int i = 0; i < 40; i++) d.Emit(Failure(client, "a", i * Second));
        foreach (var (user, i) in new[] { "b", "c", "d", "e" }.Select((u, i) => (u, i))) d.Emit(Failure(client, user, (40 + i) * Second));

        var alert = Assert.Single(sink.Alerts);
        Assert.Equal(GuessingKind.Spraying, alert.Kind);
        Assert.Equal(5, alert.DistinctUsernames);
        Assert.Equal(44, alert.Failures);
    }

    [Fact]
    public void UsernamesAreToldApartByTheirFirst256CharactersAndAlertsCarryWhatWasSent()
    {
        var sink = new CountingSink();
        var d = new PasswordGuessingDetector(sink, new GuessingThresholds());
        var prefix = new string('x', PasswordGuessingDetector.MaxUsernameLength);
        for (int i = 0; i < 10; i++) d.Emit(Failure(V4(0x0A01_0000u + (uint)i), prefix + i, i * Second));

        var alert = Assert.Single(sink.Alerts);
        Assert.Equal(prefix + 9, alert.Username);
        Assert.Equal(1, d.UsernamesTracked);
    }

    [Fact]
    public void ATrackRemembersNoMoreThanTheThresholdsNeed()
    {
        var t = new FailureTrack<int>();
        t.Reset(1);
        for (int i = 0; i < 100_000; i++) t.Record(i, long.MaxValue / 2, 10, true, (ulong)i, 12);
        Assert.Equal(10, t.FailuresWithin(100_000, long.MaxValue / 2));
        Assert.Equal(12, t.UsernamesWithin(100_000, long.MaxValue / 2));
        // Only the latest failures are kept: a window of 5 ns ending at the last one holds 5 of them.
        Assert.Equal(5, t.FailuresWithin(99_999, 4));
        Assert.Equal(5, t.UsernamesWithin(99_999, 4));
    }

    private static long Retained()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
