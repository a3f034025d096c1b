using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Parallel;
using Sensor.Core.Detection;
using Sensor.Core.Events;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture;

/// <summary>
/// The whole path from a captured frame to events: decode, reassemble, detect, analyze.
/// The same for files and live capture, and for each worker of a parallel analysis.
/// </summary>
public sealed class PacketPipeline : IFrameAnalysis
{
    private readonly TcpReassembler _reassembler;
    private readonly FlowShard _shard;
    private readonly ServerPostureTracker? _postures;

    /// <summary>A pipeline that analyses every connection; server postures are tracked and stamped here.</summary>
    public PacketPipeline(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink)
        : this(options, limits, FlowShard.Whole, postures: new ServerPostureTracker(sink, options.MaxServers, options.ServerReportInterval))
    {
    }

    private PacketPipeline(AnalysisOptions options, ReassemblyLimits limits, FlowShard shard,
        ServerPostureTracker? postures = null, IEventSink? rawSink = null)
    {
        _shard = shard;
        _postures = postures;
        Counters = new SensorCounters();
        Context = new AnalysisContext(options, (IEventSink?)postures ?? rawSink!, Counters);
        _reassembler = new TcpReassembler(new MailConsumerFactory(Context), limits, Counters,
            options.ServerPorts, Position);
    }

    /// <summary>
    /// One worker of a parallel analysis: analyses only the connections of <paramref name="shard"/>.
    /// A file worker is fed every frame, so its clock and housekeeping match a single-threaded run
    /// exactly; a live worker gets its own frames and the capture's clock ticks. Its events reach
    /// <paramref name="sink"/> without server-posture stamping, which happens after the workers'
    /// events are merged (files: back into capture order).
    /// </summary>
    public static PacketPipeline ForShard(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink, FlowShard shard) =>
        new(options, limits, shard, rawSink: sink);

    public SensorCounters Counters { get; }
    /// <summary>What the analyzers share (the fuzzer checks the partial-line budget is all given back).</summary>
    public AnalysisContext Context { get; }
    /// <summary>Where the analysis stands: which packet, for ordering events across workers.</summary>
    public InputPosition Position { get; } = new();
    /// <summary>What was learned about each server (null for a shard: its merge keeps them).</summary>
    public ServerPostureTable? Servers => _postures?.Servers;
    public int FlowCount => _reassembler.FlowCount;

    public (int Tracked, long Evicted) ServerInventory => _postures is { } p ? (p.Servers.Count, p.Servers.Evicted) : (0, 0);

    /// <summary>The latest packet or clock time seen: the time of the end-of-input server report.</summary>
    public long ClockNs { get; private set; } = long.MinValue;

    public void OnFrame(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
        Position.Packet++;
        MoveClock(timestampNs);
        var result = FrameDecoder.Decode(link, frame, timestampNs, out var segment, out bool truncated);
        if (result == DecodeResult.Tcp)
        {
            if (!_shard.Owns(segment))
            {
                // Another worker's connection: only its time matters here (idle expiry runs on every
                // packet's time in a single-threaded run, so it must here too).
                _reassembler.AdvanceTime(segment.TimestampNs);
                return;
            }
        }
        else if (!_shard.OwnsNonTcp)
        {
            return;
        }

        Counters.PacketsRead++;
        Counters.BytesRead += wireLength;
        switch (result)
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

    public void AdvanceTime(long timestampNs)
    {
        MoveClock(timestampNs);
        _reassembler.AdvanceTime(timestampNs);
    }

    /// <summary>Reports every server this pipeline tracks (none for a shard: its merge keeps them).</summary>
    public void ReportServers() => _postures?.Report(ClockNs);

    private void MoveClock(long timestampNs)
    {
        if (timestampNs > ClockNs) ClockNs = timestampNs;
        _postures?.Tick(timestampNs);
    }

    /// <summary>End of input: close every connection so pending logins are reported with outcome unknown.</summary>
    public void Finish()
    {
        Position.Packet++; // past the last packet: end-of-input closes sort after everything else
        _reassembler.CloseAll();
    }
}
