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
/// One million SYNs from distinct clients, with a real IMAP session replayed in the middle of the
/// flood: the table never holds more than its bound, every eviction is counted, the memory held is
/// what the bound allows and no more, and the real login is reported as if the flood were not there.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class SynFloodTests
{
    [Fact]
    public void AMillionSynsStayWithinTheFlowBoundAndTheRealLoginInTheMiddleIsFound()
    {
        var limits = new ReassemblyLimits { MaxFlows = 50_000 };
        var sink = new CollectingSink();
        var pipeline = new PacketPipeline(new AnalysisOptions(), limits, sink);
        var real = new List<(LinkLayers Link, byte[] Frame, long Ts)>();
        CaptureFileSource.Read(Path.Combine(RepoPaths.Pcaps, "dovecot/imap-login-atom.pcap"),
            (link, f, _, ts) => real.Add((link, f.ToArray(), ts)), FrameDecoder.IsSupported);
        var expected = GoldenCaptureTests.Analyse(Path.Combine(RepoPaths.Pcaps, "dovecot/imap-login-atom.pcap"), reveal: false)
            .Where(e => (string?)e["event_type"] == "auth").Select(e => (string?)e["auth"]!["username"]).ToList();
        Assert.NotEmpty(expected);

        const int Syns = 1_000_000;
        var frame = new byte[54];
        long t = real[0].Ts - 10_000_000_000L; // the flood starts ten seconds before the session
        long retainedAtHalf = 0;
        int next = 0;
        for (int i = 0; i < Syns; i++)
        {
            t += 20_000; // 50,000 SYNs a second: all within the 30 s handshake timeout
            while (next < real.Count && real[next].Ts <= t)
            {
                pipeline.OnFrame(real[next].Link, real[next].Frame, real[next].Frame.Length, real[next].Ts);
                next++;
            }
            Syn(frame, 0x0B000000u | (uint)i, (ushort)(1024 + i % 60_000));
            pipeline.OnFrame(LinkLayers.Ethernet, frame, frame.Length, t);
            if (i % 50_000 == 0) Assert.True(pipeline.FlowCount <= limits.MaxFlows);
            if (i == Syns / 2) retainedAtHalf = Retained();
        }
        long retainedAtEnd = Retained();
        Assert.Equal(real.Count, next); // the session really was replayed inside the flood
        pipeline.Finish();

        // The session's connection came and went (FIN) inside the flood: every SYN beyond the bound evicted one.
        Assert.Equal(Syns - limits.MaxFlows, pipeline.Counters.FlowsEvictedAtLimit);
        Assert.Equal(Syns + 1, pipeline.Counters.FlowsCreated);
        Assert.True(retainedAtEnd - retainedAtHalf < 4 * 1024 * 1024,
            $"memory grew by {(retainedAtEnd - retainedAtHalf) >> 10} KiB over the second half of the flood");
        var found = sink.Events.OfType<AuthAttempt>().Select(a => a.Username).ToList();
        Assert.Equal(expected, found);
    }

    private static long Retained()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Ethernet, IPv4, TCP SYN from 11.x.y.z to 10.0.0.2:143 (checksums are not checked).</summary>
    private static void Syn(byte[] f, uint source, ushort sourcePort)
    {
        Array.Clear(f);
        f[12] = 0x08; f[14] = 0x45; f[17] = 40; f[22] = 64; f[23] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(26), source);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(30), 0x0A000002);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(34), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(36), 143);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(38), source * 2654435761u);
        f[46] = 0x50; f[47] = 0x02;
    }
}
