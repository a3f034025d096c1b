using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Core.Detection;
using Sensor.Core.Events;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture;

/// <summary>
/// The whole path from a captured frame to events: decode, reassemble, detect, analyze.
/// The same for files and live capture.
/// </summary>
public sealed class PacketPipeline
{
    private readonly TcpReassembler _reassembler;

    public PacketPipeline(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink)
    {
        Counters = new SensorCounters();
        Context = new AnalysisContext(options, sink, Counters);
        _reassembler = new TcpReassembler(new MailConsumerFactory(Context), limits, Counters,
            options.ImapPorts.Concat(options.Pop3Ports));
    }

    public SensorCounters Counters { get; }
    public AnalysisContext Context { get; }
    public int FlowCount => _reassembler.FlowCount;

    public void OnFrame(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
        Counters.PacketsRead++;
        Counters.BytesRead += wireLength;
        switch (FrameDecoder.Decode(link, frame, timestampNs, out var segment, out bool truncated))
        {
            case DecodeResult.Tcp:
                if (truncated) Counters.PacketsTruncatedBySnaplen++;
                _reassembler.OnSegment(segment);
                break;
            case DecodeResult.NotIp: Counters.PacketsNotIp++; break;
            case DecodeResult.NotTcp: Counters.PacketsNotTcp++; break;
            case DecodeResult.Fragment: Counters.IpFragmentsSkipped++; break;
            default: Counters.PacketsMalformed++; break;
        }
    }

    public void AdvanceTime(long timestampNs) => _reassembler.AdvanceTime(timestampNs);

    /// <summary>End of input: close every connection so pending logins are reported with outcome unknown.</summary>
    public void Finish() => _reassembler.CloseAll();
}
