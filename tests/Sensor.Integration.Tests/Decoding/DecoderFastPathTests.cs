using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// Plain Ethernet II / IPv4 / TCP frames are decoded by a straight-line fast path instead of the
/// layer walk. It must answer exactly what the walk answers, on whole and on damaged frames. The walk
/// is reached for the same bytes through Linux cooked capture (SLL: 14 bytes, then the same ethertype
/// and IP packet), which goes from the ethertype to the IPv4 layer as Ethernet does, without the fast path.
/// </summary>
public sealed class DecoderFastPathTests
{
    [Fact]
    public void TheFastPathAnswersWhatTheLayerWalkAnswersOnWholeAndDamagedFrames()
    {
        var frames = new List<byte[]>();
        foreach (var capture in new[] { "third-party/pop3.pcap", "third-party/imap-starttls.pcap", "third-party/redis-50-pings.pcap" })
        {
            CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, capture), (link, f, wire, ts) =>
            {
                if (link == LinkLayers.Ethernet) frames.Add(f.ToArray());
            }, FrameDecoder.IsSupported);
        }
        Assert.True(frames.Count > 20, $"only {frames.Count} Ethernet frames");

        var rng = new Random(20261202);
        var wrong = new List<string>();
        int tcp = 0, malformed = 0, other = 0;
        for (int i = 0; i < 200_000; i++)
        {
            var bytes = (byte[])frames[rng.Next(frames.Count)].Clone();
            if (i >= frames.Count)
            {
                // Damage within the headers (IPv4 and TCP, options included), and sometimes cut it short.
                for (int d = rng.Next(1, 4); d > 0; d--)
                {
                    int at = rng.Next(14, Math.Min(bytes.Length, 80));
                    if (at < bytes.Length) bytes[at] = (byte)rng.Next(256);
                }
                if (rng.Next(4) == 0) bytes = bytes[..rng.Next(0, bytes.Length + 1)];
            }
            else
            {
                bytes = frames[i];
            }
            string? problem = Disagreement(bytes, i, out var result);
            if (problem is not null) wrong.Add($"{Convert.ToHexString(bytes.AsSpan(0, Math.Min(80, bytes.Length)))}: {problem}");
            if (result == DecodeResult.Tcp) tcp++;
            else if (result == DecodeResult.Malformed) malformed++;
            else other++;
        }
        Assert.Empty(wrong.Take(5));
        // The damage reaches every kind of answer, so each branch of the fast path is compared.
        Assert.True(tcp > 10_000 && malformed > 1_000 && other > 1_000, $"tcp {tcp}, malformed {malformed}, other {other}");
    }

    private static string? Disagreement(byte[] ethernet, long ts, out DecodeResult fast)
    {
        fast = FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.Ethernet, ethernet, ts, out var fastTunnel, out var fastSegment,
            out _, out bool fastCut);
        var sll = new byte[ethernet.Length + 2];
        ethernet.CopyTo(sll, 2);
        var walk = FrameDecoder.Decode(DecoderSettings.Default, LinkLayers.LinuxSll, sll, ts, out var walkTunnel, out var walkSegment,
            out _, out bool walkCut);
        if (fast != walk) return $"fast path {fast}, walk {walk}";
        if (fastTunnel.Kinds != walkTunnel.Kinds || fastTunnel.Realm != walkTunnel.Realm) return "layers differ";
        if (fast is not (DecodeResult.Tcp or DecodeResult.Malformed or DecodeResult.Fragment)) return null;
        if (fastCut != walkCut) return $"truncated: fast path {fastCut}, walk {walkCut}";
        if (fast != DecodeResult.Tcp) return null;
        if (fastSegment.Source != walkSegment.Source || fastSegment.Destination != walkSegment.Destination) return "endpoints differ";
        if (fastSegment.Sequence != walkSegment.Sequence || fastSegment.Acknowledgment != walkSegment.Acknowledgment) return "numbers differ";
        if (fastSegment.Flags != walkSegment.Flags || fastSegment.TimestampNs != walkSegment.TimestampNs) return "flags or time differ";
        if (!fastSegment.Payload.SequenceEqual(walkSegment.Payload)) return $"payload: {fastSegment.Payload.Length} bytes against {walkSegment.Payload.Length}";
        if (fastSegment.Tunnel.Realm != 0 || !fastSegment.Tunnel.IsEmpty) return "plain frame with layers";
        return null;
    }
}
