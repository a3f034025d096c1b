using Sensor.Capture.Parallel;
using Sensor.Core.Flows;
using Xunit;

namespace Sensor.Integration.Tests.Parallel;

/// <summary>
/// The flow hash that splits connections between workers: both directions of a connection must meet
/// on one worker, and the work must spread evenly even for the shapes real traffic has (one server,
/// thousands of clients; one client host, consecutive source ports; IPv6).
/// </summary>
public sealed class FlowShardTests
{
    private static int Index(IpEndpoint a, IpEndpoint b, int count) =>
        FlowShard.IndexOf(new TcpSegment(a, b, 0, 0, TcpFlags.Ack, default, 0), count);

    public static TheoryData<string> Shapes => new() { "many clients, one server", "one client, consecutive ports", "random IPv4", "random IPv6" };

    private static IEnumerable<(IpEndpoint Client, IpEndpoint Server)> Flows(string shape, int n)
    {
        var rng = new Random(7);
        var server = IpEndpoint.Parse("10.0.0.1", 143);
        for (int i = 0; i < n; i++)
        {
            yield return shape switch
            {
                "many clients, one server" => (IpEndpoint.Parse($"10.{1 + i / 65536}.{i / 256 % 256}.{i % 256}", 40000), server),
                "one client, consecutive ports" => (IpEndpoint.Parse("192.168.1.20", (ushort)(1024 + i)), server),
                "random IPv4" => (new IpEndpoint(IpEndpoint.FromIPv4(RandomBytes(rng, 4)), (ushort)rng.Next(1024, 65536)),
                                  new IpEndpoint(IpEndpoint.FromIPv4(RandomBytes(rng, 4)), rng.Next(2) == 0 ? (ushort)110 : (ushort)143)),
                _ => (new IpEndpoint(IpEndpoint.FromIPv6(RandomBytes(rng, 16)), (ushort)rng.Next(1024, 65536)),
                      new IpEndpoint(IpEndpoint.FromIPv6(RandomBytes(rng, 16)), 143)),
            };
        }
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BothDirectionsOfAConnectionLandOnTheSameWorker(string shape)
    {
        foreach (var (client, server) in Flows(shape, 5_000))
            foreach (int count in new[] { 2, 3, 4, 7, 8 })
                Assert.Equal(Index(client, server, count), Index(server, client, count));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ConnectionsSpreadEvenlyOverTheWorkers(string shape)
    {
        const int n = 40_000;
        foreach (int count in new[] { 2, 3, 4, 8 })
        {
            var perWorker = new int[count];
            foreach (var (client, server) in Flows(shape, n))
            {
                int i = Index(client, server, count);
                Assert.InRange(i, 0, count - 1);
                perWorker[i]++;
            }
            double even = (double)n / count;
            // Binomial spread at n = 40,000 is about 1 %; 5 % means the hash ignores part of the key.
            foreach (int c in perWorker)
                Assert.True(Math.Abs(c - even) < even * 0.05, $"{shape}, {count} workers: {string.Join(", ", perWorker)}");
        }
    }

    [Fact]
    public void OnlyTheEndpointsDecideAndTheSplitIsTheSameInEveryProcess()
    {
        // Not .NET's per-process randomised hashing: pinned values, so a file splits the same way on
        // every run and every machine. Sequence numbers, flags and time must not matter.
        var client = IpEndpoint.Parse("192.0.2.10", 51234);
        var server = IpEndpoint.Parse("198.51.100.7", 143);
        int[] got =
        [
            FlowShard.IndexOf(new TcpSegment(client, server, 1, 2, TcpFlags.Syn, default, 99), 2),
            FlowShard.IndexOf(new TcpSegment(server, client, 5, 6, TcpFlags.Ack, default, 100), 3),
            FlowShard.IndexOf(new TcpSegment(client, server, 7, 8, TcpFlags.Fin, default, 101), 8),
            FlowShard.IndexOf(new TcpSegment(IpEndpoint.Parse("2001:db8::1", 40000), IpEndpoint.Parse("2001:db8::2", 110), 0, 0, TcpFlags.Ack, default, 0), 8),
        ];
        Assert.Equal([0, 0, 1, 7], got);
    }
}
