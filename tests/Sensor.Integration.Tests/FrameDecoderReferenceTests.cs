using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;

namespace Sensor.Integration.Tests;

/// <summary>
/// The hand-written per-packet decoder against PacketDotNet, the reference it replaced on the hot
/// path: on every packet of every bundled capture both must find the same TCP segment (endpoints,
/// sequence numbers, flags, payload bytes), and random damage to those packets must not crash it.
/// Tunnelled and fragmented packets, which PacketDotNet does not open, are compared with tshark.
/// </summary>
public sealed class FrameDecoderReferenceTests
{
    public static TheoryData<string> Captures() => GoldenCaptureTests.Captures();

    [Theory]
    [MemberData(nameof(Captures))]
    public void FrameDecoderAgreesWithPacketDotNetOnEveryPacket(string capture)
    {
        var reference = new PacketDotNetDecoder();
        int tcp = 0;
        var disagreements = new List<string>();
        CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, span, wire, ts) =>
        {
            var frame = span.ToArray();
            var ours = FrameDecoder.Decode(DecoderSettings.Default, link, frame, ts, out var tunnel, out var a, out _, out _);
            // PacketDotNet opens no tunnels and reassembles no fragments: those packets are checked
            // against tshark instead (Decoding/TsharkTunnelReferenceTests, the golden tunnel captures).
            if (tunnel.TunnelDepth > 0 || ours == DecodeResult.Fragment) return;
            var theirs = reference.Decode(link, frame, frame.Length, ts, out var b, out _);
            if ((ours == DecodeResult.Tcp) != (theirs == DecodeResult.Tcp))
            {
                disagreements.Add($"packet {tcp}: ours {ours}, PacketDotNet {theirs}");
                return;
            }
            if (ours != DecodeResult.Tcp) return;
            tcp++;
            if (a.Source != b.Source || a.Destination != b.Destination || a.Sequence != b.Sequence
                || a.Acknowledgment != b.Acknowledgment || (a.Flags & ~Core.Flows.TcpFlags.Urg) != (b.Flags & ~Core.Flows.TcpFlags.Urg)
                || !a.Payload.SequenceEqual(b.Payload))
                disagreements.Add($"segment {tcp}: {a.Source}->{a.Destination} seq {a.Sequence} len {a.Payload.Length} vs {b.Source}->{b.Destination} seq {b.Sequence} len {b.Payload.Length}");
        }, FrameDecoder.IsSupported);
        Assert.Empty(disagreements);
    }

    [Fact]
    public void DamagedPacketsNeverThrowAndNeverReadOutsideTheFrame()
    {
        var rng = new Random(20261128);
        var frames = new List<(LinkLayers Link, byte[] Bytes)>();
        foreach (var capture in new[] { "crafted/ipv6-ethernet.pcap", "crafted/link-qinq.pcap", "crafted/link-sll2.pcap", "crafted/link-null-bsd.pcap", "crafted/link-raw-ip.pcap", "third-party/pop3.pcap",
                     "tunnels/erspan-type3.pcap", "tunnels/geneve-options.pcap", "tunnels/mpls-3-labels.pcap", "tunnels/pppoe.pcap", "tunnels/gre-key-seq.pcap", "tunnels/vxlan-fragmented-ipv4.pcap", "tunnels/4in6.pcap" })
            CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, f, _, _) => frames.Add((link, f.ToArray())), FrameDecoder.IsSupported);
        Assert.NotEmpty(frames);
        int decoded = 0;
        for (int i = 0; i < 50_000; i++)
        {
            var (link, original) = frames[rng.Next(frames.Count)];
            var bytes = (byte[])original.Clone();
            int cut = rng.Next(3) == 0 ? rng.Next(bytes.Length + 1) : bytes.Length; // truncate sometimes
            for (int k = rng.Next(1, 6); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            var span = bytes.AsSpan(0, cut);
            if (FrameDecoder.Decode(link, span, 0, out var seg, out _) == DecodeResult.Tcp)
            {
                decoded++;
                // The payload is a view inside the frame, never beyond it.
                Assert.True(seg.Payload.Length <= cut);
            }
        }
        Assert.True(decoded > 0);
    }
}
