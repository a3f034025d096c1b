using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// A worker of a file read passes by other workers' frames on a peek at their endpoints
/// (<see cref="FrameDecoder.TryPeekEthernetIpv4Tcp"/>) instead of decoding them. The peek must never
/// claim a frame the decoder would read otherwise: where it answers, the decoder finds TCP with the
/// same endpoints and no encapsulation, so the worker it names is the one that owns the connection.
/// </summary>
public sealed class ShardPeekTests
{
    public static TheoryData<string> Captures() => GoldenCaptureTests.Captures();

    [Theory]
    [MemberData(nameof(Captures))]
    public void WhereThePeekAnswersTheDecoderAgreesOnEveryPacket(string capture)
    {
        var wrong = new List<string>();
        int packet = 0;
        CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, frame, wire, ts) =>
        {
            packet++;
            string? problem = Disagreement(link, frame, ts);
            if (problem is not null) wrong.Add($"packet {packet}: {problem}");
        }, FrameDecoder.IsSupported);
        Assert.Empty(wrong);
    }

    [Fact]
    public void PlainEthernetIpv4TcpIsPeekedAndEverythingElseIsLeftToTheDecoder()
    {
        int peeked = 0, tcp = 0;
        foreach (var capture in new[] { "third-party/pop3.pcap", "tunnels/vxlan-4789.pcap", "tunnels/vlan-8021q.pcap", "crafted/ipv6-ethernet.pcap" })
        {
            CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, frame, wire, ts) =>
            {
                bool plain = link == LinkLayers.Ethernet && frame.Length >= 15 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14] == 0x45;
                var result = FrameDecoder.Decode(DecoderSettings.Default, link, frame, ts, out var tunnel, out _, out _, out _);
                bool peek = FrameDecoder.TryPeekEthernetIpv4Tcp(link, frame, out _, out _);
                if (result == DecodeResult.Tcp) tcp++;
                if (peek) peeked++;
                // Every plain, whole TCP frame is peeked; tunnelled or tagged ones never are.
                if (plain && result == DecodeResult.Tcp && tunnel.Kinds == 0) Assert.True(peek, capture);
                if (tunnel.Kinds != 0) Assert.False(peek, capture);
            }, FrameDecoder.IsSupported);
        }
        Assert.True(peeked > 0 && peeked < tcp, $"peeked {peeked} of {tcp} TCP frames");
    }

    [Fact]
    public void DamagedHeadersNeverMakeThePeekDisagreeWithTheDecoder()
    {
        var rng = new Random(20261201);
        var frames = new List<byte[]>();
        CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, "third-party/pop3.pcap"), (link, f, wire, ts) =>
        {
            if (link == LinkLayers.Ethernet) frames.Add(f.ToArray());
        }, FrameDecoder.IsSupported);
        Assert.NotEmpty(frames);
        var wrong = new List<string>();
        int peeked = 0;
        for (int i = 0; i < 100_000; i++)
        {
            var bytes = (byte[])frames[rng.Next(frames.Count)].Clone();
            // Damage within the headers the peek reads (Ethernet type, IPv4, TCP's fixed part), and
            // sometimes cut the frame short.
            for (int d = rng.Next(1, 4); d > 0; d--) bytes[rng.Next(12, Math.Min(bytes.Length, 60))] = (byte)rng.Next(256);
            if (rng.Next(4) == 0) bytes = bytes[..rng.Next(0, bytes.Length + 1)];
            if (FrameDecoder.TryPeekEthernetIpv4Tcp(LinkLayers.Ethernet, bytes, out _, out _)) peeked++;
            string? problem = Disagreement(LinkLayers.Ethernet, bytes, 0);
            if (problem is not null) wrong.Add($"{Convert.ToHexString(bytes.AsSpan(0, Math.Min(60, bytes.Length)))}: {problem}");
        }
        Assert.Empty(wrong.Take(5));
        Assert.True(peeked > 1000, $"only {peeked} damaged frames were still plain TCP");
    }

    /// <summary>Null when the peek declines, or when it answers what the decoder finds.</summary>
    private static string? Disagreement(LinkLayers link, ReadOnlySpan<byte> frame, long ts)
    {
        if (!FrameDecoder.TryPeekEthernetIpv4Tcp(link, frame, out var source, out var destination)) return null;
        var result = FrameDecoder.Decode(DecoderSettings.Default, link, frame, ts, out var tunnel, out var segment, out _, out _);
        if (result != DecodeResult.Tcp) return $"peeked as TCP, decoded as {result}";
        if (segment.Source != source || segment.Destination != destination) return $"peeked {source}->{destination}, decoded {segment.Source}->{segment.Destination}";
        if (segment.Tunnel.Realm != 0 || tunnel.Kinds != 0) return "peeked as plain, decoded with layers";
        for (int workers = 2; workers <= 8; workers++)
            if (FlowShard.IndexOf(source, destination, 0, workers) != FlowShard.IndexOf(segment, workers))
                return $"worker differs for {workers} workers";
        return null;
    }
}
