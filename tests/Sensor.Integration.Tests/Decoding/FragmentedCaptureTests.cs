using System.Text.Json.Nodes;
using PacketDotNet;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Outputs.EventLog;
using static Sensor.Integration.Tests.Decoding.Encapsulate;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// Real captures (Dovecot, Postfix, a third-party POP3 session, IPv6) cut into IP fragments —
/// in order, reversed with duplicates, tiny pieces that split the TCP header, and VXLAN whose outer
/// packets exceeded the underlay MTU — must give the events of the original capture, with one
/// analysis thread and with two.
/// </summary>
public sealed class FragmentedCaptureTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var capture in new[] { "dovecot/imap-login-quoted.pcap", "dovecot/pop3-user-pass-fail.pcap", "smtp/smtp-curl-auth-plain-ir.pcap", "third-party/pop3.pcap", "crafted/ipv6-ethernet.pcap" })
            foreach (var how in new[] { "in-order", "reversed-with-duplicates", "tiny", "vxlan-outer-fragmented", "fragments-inside-vxlan", "fragments-inside-fragmented-vxlan" })
                data.Add(capture, how);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AFragmentedCaptureGivesTheEventsOfTheOriginal(string capture, string how)
    {
        var original = Path.Combine(RepoPaths.Pcaps, capture);
        var frames = new List<(byte[] Frame, long Ts)>();
        CaptureFileSource.Read(original, (link, f, wire, ts) =>
        {
            Assert.Equal(LinkLayers.Ethernet, link);
            frames.Add((f.ToArray(), ts));
        }, FrameDecoder.IsSupported);

        ushort id = 1;
        var cut = new List<(byte[], long)>();
        foreach (var (frame, ts) in frames)
        {
            id++;
            switch (how)
            {
                case "in-order":
                    cut.AddRange(Fragmenter.Fragment(frame, 64, id).Select(f => (f, ts)));
                    break;
                case "reversed-with-duplicates":
                    var pieces = Fragmenter.Fragment(frame, 48, id);
                    pieces.Reverse();
                    if (pieces.Count > 1) pieces.Insert(1, pieces[0]); // a duplicate before the datagram is whole
                    cut.AddRange(pieces.Select(f => (f, ts)));
                    break;
                case "tiny":
                    // RFC 1858 §3.1: a first piece of 8 bytes holds the ports but not the TCP flags.
                    cut.AddRange(Fragmenter.Fragment(frame, 64, id, firstPieceBytes: 8).Select(f => (f, ts)));
                    break;
                case "vxlan-outer-fragmented":
                    var outer = Ethernet(0x0800, Ipv4(17, Udp(4789, Vxlan(4242, frame))));
                    cut.AddRange(Fragmenter.Fragment(outer, 96, id).Select(f => (f, ts)));
                    break;
                case "fragments-inside-vxlan":
                    // The tenant's own packets fragmented, each piece tunnelled whole.
                    cut.AddRange(Fragmenter.Fragment(frame, 64, id).Select(f => (Ethernet(0x0800, Ipv4(17, Udp(4789, Vxlan(4242, f)))), ts)));
                    break;
                case "fragments-inside-fragmented-vxlan":
                    // Both: inner pieces, each tunnelled, the outer packets cut again (ids apart).
                    foreach (var piece in Fragmenter.Fragment(frame, 128, id))
                        cut.AddRange(Fragmenter.Fragment(Ethernet(0x0800, Ipv4(17, Udp(4789, Vxlan(4242, piece)))), 64, (ushort)(id + 30000)).Select(f => (f, ts)));
                    break;
            }
        }
        Assert.True(cut.Count > frames.Count, "the capture was not cut");
        var path = Path.Combine(Path.GetTempPath(), $"fragmented-{Guid.NewGuid():N}.pcap");
        Fragmenter.WritePcap(path, cut);
        try
        {
            var expected = Comparable(Analyse(original, 1, out _));
            Assert.NotEmpty(expected);
            var single = Analyse(path, 1, out var counters);
            Assert.Equal(expected, Comparable(single));
            Assert.Equal(Comparable(single), Comparable(Analyse(path, 2, out var parallelCounters)));
            Assert.True(counters.IpDatagramsReassembled > 0);
            Assert.Equal(counters.IpDatagramsReassembled, parallelCounters.IpDatagramsReassembled);
            Assert.Equal(0, counters.IpFragmentDatagramsIncomplete + counters.IpFragmentDatagramsDropped + counters.IpFragmentsInvalid);
            if (how == "reversed-with-duplicates") Assert.True(counters.IpFragmentsDuplicate > 0);
            if (how.Contains("vxlan"))
            {
                if (how == "vxlan-outer-fragmented") Assert.Equal(frames.Count, counters.PacketsInVxlan); // each frame once, whole or in pieces
                Assert.All(single, e => Assert.Equal("vxlan:4242", e.Tunnel.ToString()));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<SensorEvent> Analyse(string path, int threads, out SensorCounters counters)
    {
        var sink = new CollectingSink();
        var detector = new PasswordGuessingDetector(sink, new GuessingThresholds());
        if (threads == 1)
        {
            var pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), detector);
            CaptureFileSource.Read(path, pipeline.OnFrame, FrameDecoder.IsSupported);
            pipeline.Finish();
            counters = pipeline.Counters;
        }
        else
        {
            var outcome = ParallelFileAnalysis.Run(path, threads, new AnalysisOptions(), new ReassemblyLimits(), detector, FrameDecoder.IsSupported);
            counters = outcome.Counters;
        }
        return sink.Events;
    }

    /// <summary>Events as JSON without what the wrapping changes (flow ids mix in the realm; the tunnel).</summary>
    private static List<string> Comparable(List<SensorEvent> events) => events.Select(e =>
    {
        var o = JsonNode.Parse(JsonEventFormatter.ToJson(e))!.AsObject();
        o.Remove("flow_id");
        o.Remove("tunnel");
        return o.ToJsonString();
    }).ToList();
}
