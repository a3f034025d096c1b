using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Core.Flows;
using Sensor.Core.Mail;
using static Sensor.Integration.Tests.Decoding.Encapsulate;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// Every encapsulation the decoder opens, around real frames of a bundled Dovecot capture: the TCP
/// segment inside must be the one the plain frame gives, and the layers must be recorded outermost
/// first with their ids. Damage, unknown variants and stacks deeper than the bound are counted
/// results, never exceptions.
/// </summary>
public sealed class EncapsulationDecodingTests
{
    private const ushort Ipv4Type = 0x0800, Ipv6Type = 0x86DD, EthernetType = 0x6558;

    /// <summary>The Ethernet frames of a real IMAP login (Dovecot and imaplib) that carry TCP payload.</summary>
    private static readonly List<byte[]> RealFrames = LoadFrames("dovecot/imap-login-quoted.pcap");

    private static List<byte[]> LoadFrames(string capture)
    {
        var frames = new List<byte[]>();
        CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, f, wire, ts) =>
        {
            if (link == LinkLayers.Ethernet && FrameDecoder.Decode(link, f, ts, out var s, out _) == DecodeResult.Tcp && !s.Payload.IsEmpty)
                frames.Add(f.ToArray());
        }, FrameDecoder.IsSupported);
        return frames;
    }

    public static TheoryData<string> Wrappings() => new(Wraps.Keys);

    /// <summary>Each way of wrapping an inner Ethernet frame, with the layers it must record.</summary>
    private static readonly Dictionary<string, (Func<byte[], byte[]> Wrap, (TunnelKind, uint)[] Layers)> Wraps = new()
    {
        ["vlan"] = (f => Ethernet(0x8100, Vlan(100, Ipv4Type, IpOf(f))), [(TunnelKind.Vlan, 100)]),
        ["qinq"] = (f => Ethernet(0x88A8, Vlan(200, 0x8100, Vlan(300, Ipv4Type, IpOf(f)))), [(TunnelKind.Vlan, 200), (TunnelKind.Vlan, 300)]),
        ["vxlan-4789"] = (f => Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(42, f)))), [(TunnelKind.Vxlan, 42)]),
        ["vxlan-8472"] = (f => Ethernet(Ipv4Type, Ipv4(17, Udp(8472, Vxlan(0xABCDEF, f)))), [(TunnelKind.Vxlan, 0xABCDEF)]),
        ["vxlan-ipv6-underlay"] = (f => Ethernet(Ipv6Type, Ipv6(17, Udp(4789, Vxlan(7, f)))), [(TunnelKind.Vxlan, 7)]),
        ["vxlan-in-vlan"] = (f => Ethernet(0x8100, Vlan(10, Ipv4Type, Ipv4(17, Udp(4789, Vxlan(5, f))))), [(TunnelKind.Vlan, 10), (TunnelKind.Vxlan, 5)]),
        ["geneve"] = (f => Ethernet(Ipv4Type, Ipv4(17, Udp(6081, Geneve(99, EthernetType, f)))), [(TunnelKind.Geneve, 99)]),
        ["geneve-options"] = (f => Ethernet(Ipv4Type, Ipv4(17, Udp(6081, Geneve(99, EthernetType, f, optionWords: 5)))), [(TunnelKind.Geneve, 99)]),
        ["geneve-ip"] = (f => Ethernet(Ipv4Type, Ipv4(17, Udp(6081, Geneve(3, Ipv4Type, IpOf(f))))), [(TunnelKind.Geneve, 3)]),
        ["gre-ip"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(Ipv4Type, IpOf(f)))), [(TunnelKind.Gre, 0)]),
        ["gre-key-seq-checksum"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(Ipv4Type, IpOf(f), key: 1234, sequence: 9, checksum: true))), [(TunnelKind.Gre, 1234)]),
        ["gretap"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(EthernetType, f, key: 77))), [(TunnelKind.Gre, 77)]),
        ["gre-over-ipv6"] = (f => Ethernet(Ipv6Type, Ipv6(47, Gre(Ipv4Type, IpOf(f)))), [(TunnelKind.Gre, 0)]),
        ["erspan-i"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x88BE, f))), [(TunnelKind.Erspan, 0)]),
        ["erspan-ii"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x88BE, ErspanII(513, f), sequence: 1))), [(TunnelKind.Erspan, 513)]),
        ["erspan-iii"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x22EB, ErspanIII(1023, f), sequence: 1))), [(TunnelKind.Erspan, 1023)]),
        ["erspan-iii-subheader"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x22EB, ErspanIII(6, f, platformSubheader: true), sequence: 1))), [(TunnelKind.Erspan, 6)]),
        ["erspan-iii-ip"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x22EB, ErspanIII(6, IpOf(f), frameType: 2), sequence: 1))), [(TunnelKind.Erspan, 6)]),
        ["ipip"] = (f => Ethernet(Ipv4Type, Ipv4(4, IpOf(f))), [(TunnelKind.IpInIp, 0)]),
        ["ipv4-in-ipv6"] = (f => Ethernet(Ipv6Type, Ipv6(4, IpOf(f))), [(TunnelKind.IpInIp, 0)]),
        ["mpls-ip"] = (f => Ethernet(0x8847, Mpls([16, 17, 1000], IpOf(f))), [(TunnelKind.Mpls, 16), (TunnelKind.Mpls, 17), (TunnelKind.Mpls, 1000)]),
        ["mpls-pseudowire-control-word"] = (f => Ethernet(0x8847, Mpls([2000], [0, 0, 0, 0, .. f])), [(TunnelKind.Mpls, 2000)]),
        ["mpls-in-gre"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x8847, Mpls([30], IpOf(f))))), [(TunnelKind.Gre, 0), (TunnelKind.Mpls, 30)]),
        ["pppoe"] = (f => Ethernet(0x8864, PppoeSession(0x1234, 0x0021, IpOf(f))), [(TunnelKind.Pppoe, 0x1234)]),
        ["erspan-carrying-vxlan"] = (f => Ethernet(Ipv4Type, Ipv4(47, Gre(0x88BE, ErspanII(1, Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(8, f))))), sequence: 1))),
            [(TunnelKind.Erspan, 1), (TunnelKind.Vxlan, 8)]),
        ["mpls-8-labels"] = (f => Ethernet(0x8847, Mpls([16, 17, 18, 19, 20, 21, 22, 23], IpOf(f))),
            [(TunnelKind.Mpls, 16), (TunnelKind.Mpls, 17), (TunnelKind.Mpls, 18), (TunnelKind.Mpls, 19), (TunnelKind.Mpls, 20), (TunnelKind.Mpls, 21), (TunnelKind.Mpls, 22), (TunnelKind.Mpls, 23)]),
    };

    [Theory]
    [MemberData(nameof(Wrappings))]
    public void TheSegmentInsideIsTheSegmentOfThePlainFrameAndTheLayersAreRecorded(string wrapping)
    {
        var (wrap, layers) = Wraps[wrapping];
        Assert.NotEmpty(RealFrames);
        foreach (var plain in RealFrames)
        {
            Assert.Equal(DecodeResult.Tcp, FrameDecoder.Decode(LinkLayers.Ethernet, plain, 1, out var expected, out _));
            var wrapped = wrap(plain);
            var result = FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.Ethernet, wrapped, 1, out var tunnel, out var actual, out _, out bool truncated);
            Assert.Equal(DecodeResult.Tcp, result);
            Assert.False(truncated);
            Assert.Equal(expected.Source, actual.Source);
            Assert.Equal(expected.Destination, actual.Destination);
            Assert.Equal(expected.Sequence, actual.Sequence);
            Assert.Equal(expected.Flags, actual.Flags);
            Assert.True(expected.Payload.SequenceEqual(actual.Payload));
            var recorded = actual.Tunnel;
            Assert.Equal(layers, Enumerable.Range(0, recorded.Count).Select(i => recorded[i]).ToArray());
            Assert.Equal(actual.Tunnel, tunnel);
        }
    }

    [Fact]
    public void TenantIdentifiersMakeDifferentRealmsAndPerDirectionLabelsDoNot()
    {
        var f = RealFrames[0];
        ulong Realm(byte[] frame)
        {
            Assert.Equal(DecodeResult.Tcp, FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.Ethernet, frame, 1, out _, out var s, out _, out _));
            return s.Tunnel.Realm;
        }
        Assert.Equal(0UL, Realm(f));
        Assert.NotEqual(Realm(Wraps["vxlan-4789"].Wrap(f)), Realm(Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(43, f))))));
        Assert.NotEqual(0UL, Realm(Wraps["vlan"].Wrap(f)));
        // VLAN 42 and VNI 42 are different networks.
        Assert.NotEqual(Realm(Ethernet(0x8100, Vlan(42, Ipv4Type, IpOf(f)))), Realm(Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(42, f))))));
        // The outer addresses (which swap with the direction) and the VXLAN port do not count.
        Assert.Equal(Realm(Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(42, f)), lastOctet: 9))), Realm(Ethernet(Ipv4Type, Ipv4(17, Udp(8472, Vxlan(42, f))))));
        // MPLS labels are chosen per hop and direction; ERSPAN sessions name the mirror, not the network.
        Assert.Equal(0UL, Realm(Ethernet(0x8847, Mpls([16, 1000], IpOf(f)))));
        Assert.Equal(0UL, Realm(Wraps["erspan-ii"].Wrap(f)));
        // A GRE key names the tunnel.
        Assert.NotEqual(0UL, Realm(Wraps["gretap"].Wrap(f)));
        // Off, VLAN ids no longer separate (one connection whose directions arrive on two VLANs).
        var noVlan = new DecoderSettings(new AnalysisOptions { VlanSeparatesConnections = false });
        Assert.Equal(DecodeResult.Tcp, FrameDecoder.Decode(noVlan, LinkLayers.Ethernet, Wraps["vlan"].Wrap(f), 1, out _, out var s2, out _, out _));
        Assert.Equal(0UL, s2.Tunnel.Realm);
    }

    [Fact]
    public void MoreTunnelLayersThanTheBoundAreTooDeep()
    {
        var ip = IpOf(RealFrames[0]);
        for (int i = 0; i < DecoderSettings.MaxTunnelDepth; i++) ip = Ipv4(4, ip);
        Assert.Equal(DecodeResult.Tcp, FrameDecoder.Decode(LinkLayers.Ethernet, Ethernet(Ipv4Type, ip), 1, out _, out _));
        Assert.Equal(DecodeResult.TooDeep, FrameDecoder.Decode(LinkLayers.Ethernet, Ethernet(Ipv4Type, Ipv4(4, ip)), 1, out _, out _));
        var labels = Enumerable.Range(16, 9).Select(l => (uint)l).ToArray();
        Assert.Equal(DecodeResult.TooDeep, FrameDecoder.Decode(LinkLayers.Ethernet, Ethernet(0x8847, Mpls(labels, IpOf(RealFrames[0]))), 1, out _, out _));
    }

    [Fact]
    public void UnknownVariantsAreUnknownEncapsulationsAndOtherUdpIsNotTcp()
    {
        var f = RealFrames[0];
        DecodeResult Of(byte[] frame) => FrameDecoder.Decode(LinkLayers.Ethernet, frame, 1, out _, out _);
        Assert.Equal(DecodeResult.UnknownEncapsulation, Of(Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(42, f, flags: 0))))));
        Assert.Equal(DecodeResult.UnknownEncapsulation, Of(Ethernet(Ipv4Type, Ipv4(47, [0x00, 0x01, 0x88, 0x0B, .. IpOf(f)])))); // GRE version 1 (PPTP)
        Assert.Equal(DecodeResult.UnknownEncapsulation, Of(Ethernet(Ipv4Type, Ipv4(47, Gre(0x1234, f)))));
        Assert.Equal(DecodeResult.UnknownEncapsulation, Of(Ethernet(Ipv4Type, Ipv4(17, Udp(6081, Geneve(1, 0x1234, f))))));
        Assert.Equal(DecodeResult.NotTcp, Of(Ethernet(Ipv4Type, Ipv4(17, Udp(53, f)))));
        Assert.Equal(DecodeResult.NotIp, Of(Ethernet(0x8864, PppoeSession(1, 0xC021, [1, 2, 3, 4])))); // LCP
        // A configured port is a tunnel; the default one no longer is when the list is replaced.
        var custom = new DecoderSettings(new AnalysisOptions { VxlanPorts = [9999] });
        Assert.Equal(DecodeResult.Tcp, FrameDecoder.Decode(custom, LinkLayers.Ethernet, Ethernet(Ipv4Type, Ipv4(17, Udp(9999, Vxlan(1, f)))), 1, out _, out _, out _, out _));
        Assert.Equal(DecodeResult.NotTcp, FrameDecoder.Decode(custom, LinkLayers.Ethernet, Ethernet(Ipv4Type, Ipv4(17, Udp(4789, Vxlan(1, f)))), 1, out _, out _, out _, out _));
    }

    [Fact]
    public void EveryTruncationAndDamageOfEveryWrappingIsAResultNeverAnException()
    {
        var rng = new Random(20261201);
        int results = 0;
        foreach (var (name, (wrap, _)) in Wraps)
        {
            var wrapped = wrap(RealFrames[1]);
            for (int cut = 0; cut <= wrapped.Length; cut++)
            {
                FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.Ethernet, wrapped.AsSpan(0, cut), 1, out _, out _, out _, out _);
                results++;
            }
            for (int i = 0; i < 2000; i++)
            {
                var damaged = (byte[])wrapped.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--) damaged[rng.Next(Math.Min(damaged.Length, 120))] = (byte)rng.Next(256);
                var r = FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.Ethernet, damaged, 1, out var tunnel, out var seg, out var frag, out _);
                if (r == DecodeResult.Tcp) Assert.True(seg.Payload.Length <= damaged.Length, name);
                if (r == DecodeResult.Fragment) Assert.True(frag.Payload.Length <= damaged.Length, name);
                Assert.True(tunnel.TunnelDepth <= DecoderSettings.MaxTunnelDepth + 2, name);
                results++;
            }
        }
        Assert.True(results > 50_000);
    }
}
