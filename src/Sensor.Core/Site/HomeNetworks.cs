using Sensor.Core.Flows;

namespace Sensor.Core.Site;

/// <summary>
/// The site's own address blocks and the one question asked of them: is this address inside?
/// A table per prefix length (a site lists a handful of lengths, each a hash set of networks), so a
/// look-up costs one mask and one hash probe per distinct length, whatever the number of blocks.
/// Asked once per event, never per packet. Overlapping blocks are fine: inside is inside.
/// </summary>
public sealed class HomeNetworks
{
    private readonly (UInt128 Mask, HashSet<UInt128> Networks)[] _byLength;

    public HomeNetworks(IEnumerable<NetworkPrefix> prefixes)
    {
        Prefixes = prefixes.Distinct().ToArray();
        // Longest first: a host route answers before the wide block it sits in (same answer, fewer probes for servers).
        _byLength = Prefixes.GroupBy(p => p.Length)
            .OrderByDescending(g => g.Key)
            .Select(g => (NetworkPrefix.MaskOf(g.Key), g.Select(p => p.Network).ToHashSet()))
            .ToArray();
    }

    public IReadOnlyList<NetworkPrefix> Prefixes { get; }

    /// <summary>Parses "CIDR,CIDR,..." items; null and <paramref name="problem"/> on the first bad one.</summary>
    public static HomeNetworks? Parse(IEnumerable<string> items, out string? problem)
    {
        var prefixes = new List<NetworkPrefix>();
        // A null or blank entry (a config's "HomeNetworks": [null] or [""]) is a mistake, not "no network".
        if (items.Any(string.IsNullOrWhiteSpace))
        {
            problem = "an entry is empty";
            return null;
        }
        foreach (var item in items.SelectMany(i => i.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!NetworkPrefix.TryParse(item, out var p, out problem)) return null;
            prefixes.Add(p);
        }
        problem = null;
        return new HomeNetworks(prefixes);
    }

    public bool Contains(UInt128 address)
    {
        foreach (var (mask, networks) in _byLength)
            if (networks.Contains(address & mask)) return true;
        return false;
    }

    public TrafficDirection DirectionOf(in IpEndpoint client, in IpEndpoint server) =>
        (Contains(client.Address), Contains(server.Address)) switch
        {
            (true, false) => TrafficDirection.Outbound,
            (false, true) => TrafficDirection.Inbound,
            (true, true) => TrafficDirection.Internal,
            _ => TrafficDirection.External,
        };
}
