using System.Buffers.Binary;
using PacketDotNet;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Core.Events;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Xunit;

namespace Sensor.Integration.Tests.Robustness;

/// <summary>
/// A quarter of a million damaged frames (cut anywhere, bogus IP and TCP header and total lengths,
/// random flags and bytes), cut from real captures of every link type, through one pipeline with
/// tight bounds: nothing throws, the bounds hold, and real sessions replayed afterwards through the
/// same pipeline give exactly the events they give on their own.
/// </summary>
public sealed class MutatedPacketTests
{
    private static readonly string[] Sources =
    [
        "dovecot/imap-login-atom.pcap", "third-party/pop3.pcap", "crafted/ipv6-ethernet.pcap", "crafted/link-qinq.pcap",
        "crafted/link-sll2.pcap", "crafted/link-null-bsd.pcap", "crafted/link-raw-ip.pcap", "crafted/imap-authenticate-plain-ir.pcap",
    ];

    private static readonly string[] Later = ["dovecot/imap-login-atom.pcap", "third-party/pop3.pcap", "crafted/imap-authenticate-plain-ir.pcap", "crafted/ipv6-ethernet.pcap"];

    private static readonly ReassemblyLimits Tight = new() { MaxFlows = 2_000, MaxBufferedBytesTotal = 2 * 1024 * 1024 };

    [Fact]
    public void DamagedFramesNeverThrowNorBreakTheBoundsAndLaterSessionsGiveTheirExactEvents()
    {
        var frames = new List<(LinkLayers Link, byte[] Bytes)>();
        foreach (var s in Sources)
            CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, s), (link, f, _, _) => frames.Add((link, f.ToArray())), FrameDecoder.IsSupported);
        Assert.True(frames.Count > 100);

        var sink = new CollectingSink();
        var pipeline = new PacketPipeline(new AnalysisOptions(), Tight, sink);
        var rng = new Random(1128);
        long t = 1_700_000_000_000_000_000L;
        for (int i = 0; i < 250_000; i++)
        {
            var (link, original) = frames[rng.Next(frames.Count)];
            var bytes = Mutate(rng, link, original);
            pipeline.OnFrame(link, bytes, bytes.Length, t += 1_000);
            if (i % 1000 == 0)
            {
                Assert.True(pipeline.FlowCount <= Tight.MaxFlows);
                Assert.True(pipeline.Counters.BytesBufferedNow <= Tight.MaxBufferedBytesTotal);
            }
        }
        Assert.True(pipeline.Counters.PacketsMalformed > 10_000, $"only {pipeline.Counters.PacketsMalformed} frames were malformed: the mutations are too kind");
        Assert.True(pipeline.Counters.FlowsCreated > 1_000, $"only {pipeline.Counters.FlowsCreated} connections: the mutations are too harsh to reach reassembly");

        // Ten minutes later (every damaged connection has expired), the real sessions.
        long laterStart = t + 600_000_000_000L;
        int junkEvents = sink.Events.Count;
        var expected = new List<string>();
        foreach (var s in Later)
        {
            var path = Path.Combine(RepoPaths.Pcaps, s);
            expected.AddRange(AnalyseAlone(path));
            long first = -1;
            CaptureFileSource.Read(path, (link, f, wire, ts) =>
            {
                if (first < 0) first = ts;
                pipeline.OnFrame(link, f, wire, laterStart + (ts - first));
            }, FrameDecoder.IsSupported);
            laterStart += 3_600_000_000_000L; // an hour between captures: no cross-talk
        }
        pipeline.Finish();

        var later = sink.Events.Skip(junkEvents).Where(e => e is AuthAttempt or StartTlsUpgrade)
            .Where(e => e.TimestampNs > t + 600_000_000_000L - 1).Select(Describe).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Order(StringComparer.Ordinal), later.Order(StringComparer.Ordinal));
    }

    private static IEnumerable<string> AnalyseAlone(string path)
    {
        var sink = new CollectingSink();
        var p = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), sink);
        CaptureFileSource.Read(path, p.OnFrame, FrameDecoder.IsSupported);
        p.Finish();
        return sink.Events.Where(e => e is AuthAttempt or StartTlsUpgrade).Select(Describe);
    }

    private static string Describe(SensorEvent e) => e switch
    {
        AuthAttempt a => $"auth {a.Protocol} {a.Mechanism} {a.Username} {a.Exposure} {a.Outcome} {a.Client}->{a.Server}",
        StartTlsUpgrade s => $"starttls {s.Protocol} {s.Outcome} {s.Client}->{s.Server}",
        _ => e.ToString(),
    };

    /// <summary>One or more of: cut, random bytes, bogus IPv4/IPv6/TCP length fields, random TCP flags.</summary>
    private static byte[] Mutate(Random rng, LinkLayers link, byte[] original)
    {
        var b = (byte[])original.Clone();
        int ip = link switch { LinkLayers.Ethernet => 14, LinkLayers.LinuxSll2 => 20, LinkLayers.Null => 4, _ => 0 };
        if (link == LinkLayers.Ethernet && b.Length > 18 && b[12] == 0x81) ip = b.Length > 22 && b[16] == 0x81 ? 22 : 18; // VLAN, QinQ
        bool v6 = ip < b.Length && b[ip] >> 4 == 6;
        int tcp = ip + (v6 ? 40 : ip < b.Length ? (b[ip] & 0x0f) * 4 : 0);
        for (int k = rng.Next(1, 4); k > 0; k--)
        {
            switch (rng.Next(7))
            {
                case 0: b = b[..rng.Next(b.Length + 1)]; break;                                      // cut anywhere
                case 1: if (b.Length > 0) b[rng.Next(b.Length)] = (byte)rng.Next(256); break;       // a random byte
                case 2 when ip + 1 < b.Length: b[ip] = (byte)((b[ip] & 0xf0) | rng.Next(16)); break; // IHL
                case 3 when ip + 6 <= b.Length:                                                      // IP total / payload length
                    BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(v6 ? ip + 4 : ip + 2), (ushort)rng.Next(65536)); break;
                case 4 when tcp + 13 < b.Length: b[tcp + 12] = (byte)(rng.Next(16) << 4); break;     // TCP data offset
                case 5 when tcp + 14 < b.Length: b[tcp + 13] = (byte)rng.Next(256); break;           // TCP flags
                case 6 when tcp + 8 <= b.Length:                                                     // sequence number
                    BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(tcp + 4), (uint)rng.NextInt64(0, 1L << 32)); break;
            }
        }
        return b;
    }
}
