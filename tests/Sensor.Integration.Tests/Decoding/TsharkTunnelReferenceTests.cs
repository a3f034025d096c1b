using System.Text.Json.Nodes;
using Sensor.Capture.Decoding;
using Sensor.Capture.Defragmentation;
using Sensor.Capture.Files;
using Sensor.Core.Flows;
using Sensor.Core.Health;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// The decoder against tshark on public captures of every encapsulation (Zeek's test traces, see
/// pcaps/third-party/tunnels/ATTRIBUTION.md): the inner TCP connections it finds, with their packet
/// and payload byte counts (fragments reassembled), must be those tshark lists in NAME.connections.jsonl
/// (made by pcaps/record/record-tunnels.py third-party), and the tunnel ids tshark reports must be
/// among the layers it recorded.
/// </summary>
public sealed class TsharkTunnelReferenceTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Pcaps, "third-party", "tunnels");

    public static TheoryData<string> Traces() =>
        new(Directory.GetFiles(Folder, "*.connections.jsonl").Select(f => Path.GetFileName(f)[..^".connections.jsonl".Length]).Order());

    [Theory]
    [MemberData(nameof(Traces))]
    public void TheInnerConnectionsAreThoseTsharkFinds(string trace)
    {
        var expected = File.ReadAllLines(Path.Combine(Folder, trace + ".connections.jsonl"))
            .Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var ours = new Dictionary<string, (int Packets, long Bytes, HashSet<string> Layers)>();
        var counters = new SensorCounters();
        var defragmenter = new IpDefragmenter(new FragmentLimits(), counters);

        void Record(in TcpSegment s)
        {
            var layers = new List<string>();
            for (int i = 0; i < s.Tunnel.Count; i++)
                layers.Add(s.Tunnel.HasId(i) ? $"{s.Tunnel[i].Kind.Name()}:{s.Tunnel[i].Id}" : s.Tunnel[i].Kind.Name());
            string key = Key(s.Source, s.Destination) + Tenant(layers);
            ours.TryGetValue(key, out var c);
            c.Layers ??= [];
            c.Layers.UnionWith(layers);
            ours[key] = (c.Packets + 1, c.Bytes + s.Payload.Length, c.Layers);
        }

        CaptureFileSource.Read(Path.Combine(Folder, trace + ".pcap"), (link, frame, wire, ts) =>
        {
            var result = FrameDecoder.Decode(DecoderSettings.Default, link, frame, ts, out _, out var segment, out var fragment, out _);
            if (result == DecodeResult.Tcp) Record(segment);
            while (result == DecodeResult.Fragment)
            {
                if (!defragmenter.Add(fragment, ts, out var datagram)) break;
                result = FrameDecoder.DecodeReassembled(DecoderSettings.Default, datagram, ts, out _, out var inside, out var inner, out _);
                if (result == DecodeResult.Tcp) Record(inside);
                if (result == DecodeResult.Fragment && defragmenter.Add(inner, ts, out var second))
                {
                    // A fragment inside a reassembled datagram (none of these traces has one completing here).
                    defragmenter.Release(second);
                }
                defragmenter.Release(datagram);
                break;
            }
        }, FrameDecoder.IsSupported);

        var theirs = expected.ToDictionary(
            o => Key((string)o["client_ip"]!, (int)o["client_port"]!, (string)o["server_ip"]!, (int)o["server_port"]!)
                 + Tenant(o["tunnel_ids"]!.AsArray().Select(p => $"{(string)p![0]!}:{(long)p[1]!}")),
            o => o);
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        foreach (var (key, o) in theirs)
        {
            var (packets, bytes, layers) = ours[key];
            Assert.True((int)o["packets"]! == packets, $"{key}: tshark {o["packets"]} packets, ours {packets}");
            Assert.True((long)o["payload_bytes"]! == bytes, $"{key}: tshark {o["payload_bytes"]} payload bytes, ours {bytes}");
            foreach (var id in o["tunnel_ids"]!.AsArray())
            {
                var pair = id!.AsArray();
                string layer = $"{(string)pair[0]!}:{(long)pair[1]!}";
                Assert.True(layers.Contains(layer), $"{key}: tshark saw {layer}, ours: {string.Join(' ', layers)}");
            }
        }
    }

    /// <summary>The layers that tell tenants apart (the same addresses in two VNIs are two connections).</summary>
    private static string Tenant(IEnumerable<string> layers) =>
        string.Concat(layers.Where(l => l.StartsWith("vlan:") || l.StartsWith("vxlan:") || l.StartsWith("geneve:") || l.StartsWith("gre:")).Select(l => " " + l));

    private static string Key(IpEndpoint a, IpEndpoint b) =>
        Key(a.AddressText, a.Port, b.AddressText, b.Port);

    /// <summary>Direction-free: the two endpoints in order.</summary>
    private static string Key(string ipA, int portA, string ipB, int portB)
    {
        string a = $"{System.Net.IPAddress.Parse(ipA)}:{portA}", b = $"{System.Net.IPAddress.Parse(ipB)}:{portB}";
        return string.CompareOrdinal(a, b) <= 0 ? $"{a} {b}" : $"{b} {a}";
    }
}
