using Sensor.Core.Site;

namespace Sensor.Core.Tests.Site;

/// <summary>The home-network matcher: CIDR parsing for both families and the inside/outside answer.</summary>
public sealed class HomeNetworksTests
{
    private static HomeNetworks Home(params string[] cidrs) =>
        HomeNetworks.Parse(cidrs, out var problem) ?? throw new InvalidOperationException(problem);

    private static bool Inside(HomeNetworks home, string address) => home.Contains(IpEndpoint.Parse(address, 0).Address);

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0", true)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("192.168.1.0/24", "192.168.1.77", true)]
    [InlineData("192.168.1.0/24", "192.168.2.1", false)]
    [InlineData("172.16.0.0/12", "172.31.255.1", true)]
    [InlineData("172.16.0.0/12", "172.32.0.1", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("fe80::/10", "febf::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    public void APrefixHoldsExactlyItsAddresses(string cidr, string address, bool inside) =>
        Assert.Equal(inside, Inside(Home(cidr), address));

    [Fact]
    public void ASlash32IsOneHostAndABareAddressMeansTheSame()
    {
        foreach (var home in new[] { Home("192.0.2.7/32"), Home("192.0.2.7") })
        {
            Assert.True(Inside(home, "192.0.2.7"));
            Assert.False(Inside(home, "192.0.2.6"));
            Assert.False(Inside(home, "192.0.2.8"));
        }
        var v6 = Home("2001:db8::7/128");
        Assert.True(Inside(v6, "2001:db8::7"));
        Assert.False(Inside(v6, "2001:db8::6"));
    }

    [Fact]
    public void IPv4SlashZeroIsEveryIPv4AddressAndNoIPv6One()
    {
        var home = Home("0.0.0.0/0");
        Assert.True(Inside(home, "0.0.0.0"));
        Assert.True(Inside(home, "255.255.255.255"));
        Assert.True(Inside(home, "8.8.8.8"));
        Assert.False(Inside(home, "2001:db8::1"));
        Assert.False(Inside(home, "::1"));
    }

    [Fact]
    public void IPv6SlashZeroIsEveryAddressOfBothFamilies()
    {
        var home = Home("::/0");
        Assert.True(Inside(home, "2001:db8::1"));
        Assert.True(Inside(home, "8.8.8.8"));
    }

    [Fact]
    public void AnIPv4MappedPrefixMatchesTheIPv4AddressesItMapsAndTheirMappedSpelling()
    {
        // ::ffff:10.0.0.0/104 is 10.0.0.0/8 written in IPv6 (RFC 4291 §2.5.5.2); the sensor keeps one address space.
        var mapped = Home("::ffff:10.0.0.0/104");
        Assert.True(Inside(mapped, "10.1.2.3"));
        Assert.True(Inside(mapped, "::ffff:10.1.2.3"));
        Assert.False(Inside(mapped, "11.1.2.3"));
        var plain = Home("10.0.0.0/8");
        Assert.True(Inside(plain, "::ffff:10.1.2.3"));
        Assert.False(Inside(plain, "::a01:203")); // IPv4-compatible (deprecated), not mapped: a different address
    }

    [Fact]
    public void OverlappingPrefixesOfDifferentLengthsAnswerForTheirUnion()
    {
        var home = Home("10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "192.168.0.0/16", "192.168.5.0/24");
        foreach (var a in new[] { "10.0.0.1", "10.1.0.1", "10.1.2.3", "10.200.0.1", "192.168.5.5", "192.168.200.1" })
            Assert.True(Inside(home, a), a);
        foreach (var a in new[] { "11.1.2.3", "192.169.0.1", "9.0.0.0" })
            Assert.False(Inside(home, a), a);
        Assert.Equal(5, home.Prefixes.Count);
    }

    [Fact]
    public void ListsMayBeCommaSeparatedAndDuplicatesAreOne()
    {
        var home = Home(" 10.0.0.0/8 , 2001:db8::/32", "10.0.0.0/8");
        Assert.Equal(2, home.Prefixes.Count);
        Assert.True(Inside(home, "2001:db8::1"));
    }

    [Theory]
    [InlineData("10.0.0.0/33", "prefix length")]
    [InlineData("2001:db8::/129", "prefix length")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.0/8x", "prefix length")]
    [InlineData("10.0.0.256/32", "not an address")]
    [InlineData("intranet", "not an address")]
    [InlineData("fe80::1%eth0/64", "not an address")]
    [InlineData("10.1.2.3/8", "did you mean 10.0.0.0/8")]
    [InlineData("2001:db8::1/32", "did you mean 2001:db8::/32")]
    [InlineData("10.0.0.0/8\nforged log line", "'10.0.0.0/8?forged log line'")]
    public void AnythingButAnExactPrefixIsRefusedWithItsReason(string text, string reason)
    {
        Assert.Null(HomeNetworks.Parse([text], out var problem));
        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Theory]
    [InlineData("10.0.0.5", "10.0.0.6", TrafficDirection.Internal)]
    [InlineData("10.0.0.5", "203.0.113.9", TrafficDirection.Outbound)]
    [InlineData("203.0.113.9", "10.0.0.5", TrafficDirection.Inbound)]
    [InlineData("203.0.113.9", "198.51.100.1", TrafficDirection.External)]
    [InlineData("2001:db8::5", "2001:db8::6", TrafficDirection.Internal)]
    [InlineData("2001:db8::5", "2001:4860::1", TrafficDirection.Outbound)]
    public void TheDirectionSaysWhichSideIsInside(string client, string server, TrafficDirection expected) =>
        Assert.Equal(expected, Home("10.0.0.0/8", "2001:db8::/32").DirectionOf(IpEndpoint.Parse(client, 50000), IpEndpoint.Parse(server, 143)));
}
