using System.Net;
using Sensor.Core.Flows;

namespace Sensor.Core.Tests.Flows;

/// <summary>
/// The connection key: both directions are one key, realms and ports keep connections apart, and the
/// keyed hash spreads the address patterns a flood or a scan produces (sequential clients, IPv6
/// addresses differing only in their upper or lower half, one client's ports) over a table's buckets.
/// </summary>
public sealed class FlowKeyTests
{
    private static IpEndpoint V4(uint address, ushort port) => new(IpEndpoint.FromIPv4(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(address))), port);

    [Fact]
    public void BothDirectionsAreOneKeyWithOneHash()
    {
        var client = IpEndpoint.Parse("192.0.2.7", 51000);
        var server = IpEndpoint.Parse("198.51.100.2", 143);
        var there = new FlowKey(client, server, 42);
        var back = new FlowKey(server, client, 42);
        Assert.Equal(there, back);
        Assert.Equal(there.GetHashCode(), back.GetHashCode());
        Assert.NotEqual(there, new FlowKey(client, server, 43));
        Assert.NotEqual(there, new FlowKey(client, IpEndpoint.Parse("198.51.100.2", 110), 42));
    }

    public static TheoryData<string> Patterns() => ["sequential IPv4 clients", "one client's ports", "IPv6 upper halves", "IPv6 lower halves", "realms"];

    [Theory]
    [MemberData(nameof(Patterns))]
    public void TheHashSpreadsEachPatternEvenlyOverBuckets(string pattern)
    {
        const int keys = 65_536, buckets = 1024;
        var server = IpEndpoint.Parse("10.0.0.1", 143);
        var v6 = IPAddress.Parse("2001:db8::1").GetAddressBytes();
        var load = new int[buckets];
        for (int i = 0; i < keys; i++)
        {
            FlowKey key = pattern switch
            {
                "sequential IPv4 clients" => new FlowKey(V4(0x0A010000u + (uint)i, 40000), server),
                "one client's ports" => new FlowKey(V4(0x0A010001u, (ushort)i), server),
                "IPv6 upper halves" => new FlowKey(new IpEndpoint(IpEndpoint.FromIPv6(v6) + ((UInt128)(uint)i << 64), 40000), server),
                "IPv6 lower halves" => new FlowKey(new IpEndpoint(IpEndpoint.FromIPv6(v6) + (uint)i, 40000), server),
                _ => new FlowKey(V4(0x0A010001u, 40000), server, (ulong)i),
            };
            load[(uint)key.GetHashCode() % buckets]++;
        }
        // 64 keys a bucket on average; a uniform hash stays within about 5 standard deviations (8).
        Assert.InRange(load.Max(), 1, 64 + 40);
        Assert.InRange(load.Min(), 64 - 40, 64);
    }
}
