using BenchmarkDotNet.Attributes;
using Sensor.Benchmarks.Support;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Guessing;

namespace Sensor.Benchmarks;

/// <summary>
/// (e) <see cref="PasswordGuessingDetector"/> under a flood: 1,000,000 failed logins, each from a
/// client of its own with a username of its own (a botnet, or one attacker spoofing addresses),
/// into a fresh detector with the default thresholds (50,000 clients and 50,000 usernames).
/// <c>OneWindow</c>: the whole flood within one second of packet time, so only the caps bound
/// memory and 950,000 clients and 950,000 usernames are evicted. <c>OverAnHour</c>: one failure
/// every 3.6 ms of packet time, so tracks mostly expire after the 5-minute window instead.
/// <c>BoundedDictionary</c>, the baseline, is the least any capped map of clients does per new
/// client: one add and one remove in a <see cref="Dictionary{TKey,TValue}"/> of 50,000 addresses.
/// The detector does that work for two tables, plus the thresholds. Reported per failure; the
/// total for the million is a million times that. The events are built once, in the setup.
/// </summary>
[MemoryDiagnoser]
public class GuessingBenchmarks
{
    public const int Clients = 1_000_000;

    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.0.0.2", 143);
    private readonly AuthAttempt[] _oneWindow = new AuthAttempt[Clients];
    private readonly AuthAttempt[] _overAnHour = new AuthAttempt[Clients];

    [GlobalSetup]
    public void Setup()
    {
        const long start = 1_735_812_000_000_000_000;
        for (int i = 0; i < Clients; i++)
        {
            var client = new IpEndpoint(((UInt128)0xFFFF << 32) | (0x0A00_0000u + (uint)i), 40_000);
            var user = "user" + i;
            _oneWindow[i] = Failure(client, user, start + i * 1_000L);
            _overAnHour[i] = Failure(client, user, start + i * 3_600_000L);
        }

        var check = new PasswordGuessingDetector(NullSink.Instance, new GuessingThresholds());
        foreach (var e in _oneWindow) check.Emit(e);
        if (check.ClientsEvicted != Clients - 50_000 || check.UsernamesEvicted != Clients - 50_000 || check.Alerts != 0)
            throw new InvalidOperationException($"flood check failed: {check.ClientsEvicted} clients and {check.UsernamesEvicted} usernames evicted, {check.Alerts} alerts");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Clients, Description = "baseline: one add and one remove in a Dictionary of 50,000 clients, per failure")]
    public long BoundedDictionary()
    {
        var clients = new Dictionary<UInt128, AuthAttempt>();
        foreach (var e in _oneWindow)
        {
            if (clients.Count >= 50_000) clients.Remove(e.Client.Address - 50_000);
            clients.Add(e.Client.Address, e);
        }
        return clients.Count;
    }

    [Benchmark(OperationsPerInvoke = Clients, Description = "1M distinct failing clients in one window (evicted at the cap), per failure")]
    public long OneWindow() => Run(_oneWindow);

    [Benchmark(OperationsPerInvoke = Clients, Description = "1M distinct failing clients over an hour (expired), per failure")]
    public long OverAnHour() => Run(_overAnHour);

    private static long Run(AuthAttempt[] failures)
    {
        var detector = new PasswordGuessingDetector(NullSink.Instance, new GuessingThresholds());
        foreach (var e in failures) detector.Emit(e);
        return detector.TracksEvicted;
    }

    private static AuthAttempt Failure(IpEndpoint client, string user, long ts) => new()
    {
        TimestampNs = ts,
        FlowId = "0000000000000000",
        Client = client,
        Server = Server,
        Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN",
        Username = user,
        Exposure = CredentialExposure.Cleartext,
        Outcome = AuthOutcome.Failure,
    };
}
