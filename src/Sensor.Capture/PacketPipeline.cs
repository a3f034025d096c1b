using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Defragmentation;
using Sensor.Capture.Parallel;
using Sensor.Core.Detection;
using Sensor.Core.Events;
using Sensor.Core.Flows;
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
    private readonly DecoderSettings _decoder;
    private readonly IpDefragmenter _defragmenter;
    private readonly FlowShard _shard;
    /// <summary>A file worker is fed every frame; a live worker only its own (no peek needed).</summary>
    private readonly bool _passOthersByPeek;
    private readonly ServerPostureTracker? _postures;

    /// <summary>A pipeline that analyses every connection; server postures are tracked and stamped here.</summary>
    public PacketPipeline(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink)
        : this(options, limits, FlowShard.Whole, postures: new ServerPostureTracker(sink, options.MaxServers, options.ServerReportInterval))
    {
    }

    private PacketPipeline(AnalysisOptions options, ReassemblyLimits limits, FlowShard shard,
        ServerPostureTracker? postures = null, IEventSink? rawSink = null, bool fedEveryFrame = false)
    {
        _shard = shard;
        _passOthersByPeek = fedEveryFrame && shard.Count > 1;
        _postures = postures;
        Counters = new SensorCounters();
        Context = new AnalysisContext(options, (IEventSink?)postures ?? rawSink!, Counters);
        _reassembler = new TcpReassembler(new MailConsumerFactory(Context), limits, Counters,
            options.ServerPorts, Position);
        _decoder = new DecoderSettings(options);
        // Every worker reassembles every fragment (a later fragment carries no ports to tell its
        // connection by); only the first counts them, so the totals are those of a single pipeline.
        _defragmenter = new IpDefragmenter(new FragmentLimits(), shard.OwnsNonTcp ? Counters : new SensorCounters());
    }

    /// <summary>
    /// One worker of a parallel analysis: analyses only the connections of <paramref name="shard"/>.
    /// A file worker is fed every frame, so its clock and housekeeping match a single-threaded run
    /// exactly; a live worker gets its own frames and the capture's clock ticks. Its events reach
    /// <paramref name="sink"/> without server-posture stamping, which happens after the workers'
    /// events are merged (files: back into capture order).
    /// </summary>
    /// <param name="fedEveryFrame">True for a file worker: other workers' plain frames are then
    /// passed by on a peek at their endpoints instead of being decoded.</param>
    public static PacketPipeline ForShard(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink, FlowShard shard,
        bool fedEveryFrame) =>
        new(options, limits, shard, rawSink: sink, fedEveryFrame: fedEveryFrame);

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
        if (_passOthersByPeek && _shard.IsOthers(link, frame))
        {
            // Another worker's connection, seen without decoding (most frames of a file read with
            // several workers): only its time matters here, as below.
            _reassembler.AdvanceTime(timestampNs);
            return;
        }
        var result = FrameDecoder.Decode(_decoder, link, frame, timestampNs, out var tunnel, out var segment,
            out var fragment, out bool truncated);
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
        else if (result != DecodeResult.Fragment && !_shard.OwnsNonTcp)
        {
            return;
        }

        if (_shard.OwnsNonTcp || result == DecodeResult.Tcp)
        {
            Counters.PacketsRead++;
            Counters.BytesRead += wireLength;
            if (tunnel.Kinds != 0) CountLayers(tunnel.Kinds);
        }
        switch (result)
        {
            case DecodeResult.Tcp:
                if (truncated) Counters.PacketsTruncatedBySnaplen++;
                _reassembler.OnSegment(segment);
                break;
            case DecodeResult.Fragment: OnFragment(fragment, timestampNs); break;
            case DecodeResult.NotIp: Counters.PacketsNotIp++; break;
            case DecodeResult.NotTcp: Counters.PacketsNotTcp++; break;
            case DecodeResult.UnknownEncapsulation: Counters.PacketsEncapsulationUnknown++; break;
            case DecodeResult.TooDeep: Counters.PacketsTooDeep++; break;
            default: Counters.PacketsMalformed++; break;
        }
    }

    /// <summary>
    /// A fragment: into the defragmenter, and a datagram it completes decoded on from where the
    /// fragment's IP header left off. That may be a fragment again (a fragmented packet inside a
    /// tunnel whose outer packets were fragmented too): the loop is bounded by the tunnel depth.
    /// </summary>
    private void OnFragment(scoped IpFragment fragment, long timestampNs)
    {
        IpDefragmenter.Datagram? held = null; // the outer datagram an inner fragment points into
        try
        {
            for (int depth = 0; depth <= DecoderSettings.MaxTunnelDepth; depth++)
            {
                bool complete = _defragmenter.Add(fragment, timestampNs, out var datagram);
                if (held is not null) _defragmenter.Release(held); // Add has copied the inner fragment
                held = null;
                if (!complete) return;
                held = datagram.Owner;
                var known = datagram.Context.Kinds;
                var result = FrameDecoder.DecodeReassembled(_decoder, datagram, timestampNs, out var tunnel, out var segment,
                    out fragment, out _);
                bool counts = _shard.OwnsNonTcp;
                if (counts && (tunnel.Kinds & ~known) != 0) CountLayers((ushort)(tunnel.Kinds & ~known));
                switch (result)
                {
                    case DecodeResult.Tcp:
                        if (_shard.Owns(segment)) _reassembler.OnSegment(segment);
                        else _reassembler.AdvanceTime(segment.TimestampNs);
                        return;
                    case DecodeResult.Fragment: continue;
                    case DecodeResult.NotIp: if (counts) Counters.PacketsNotIp++; return;
                    case DecodeResult.NotTcp: if (counts) Counters.PacketsNotTcp++; return;
                    case DecodeResult.UnknownEncapsulation: if (counts) Counters.PacketsEncapsulationUnknown++; return;
                    case DecodeResult.TooDeep: if (counts) Counters.PacketsTooDeep++; return;
                    default: if (counts) Counters.PacketsMalformed++; return;
                }
            }
            if (_shard.OwnsNonTcp) Counters.PacketsTooDeep++;
        }
        finally
        {
            if (held is not null) _defragmenter.Release(held);
        }
    }

    private void CountLayers(ushort kinds)
    {
        if ((kinds & (1 << (int)TunnelKind.Vlan)) != 0) Counters.PacketsInVlan++;
        if ((kinds & (1 << (int)TunnelKind.Mpls)) != 0) Counters.PacketsInMpls++;
        if ((kinds & (1 << (int)TunnelKind.Pppoe)) != 0) Counters.PacketsInPppoe++;
        if ((kinds & (1 << (int)TunnelKind.Gre)) != 0) Counters.PacketsInGre++;
        if ((kinds & (1 << (int)TunnelKind.Erspan)) != 0) Counters.PacketsInErspan++;
        if ((kinds & (1 << (int)TunnelKind.Vxlan)) != 0) Counters.PacketsInVxlan++;
        if ((kinds & (1 << (int)TunnelKind.Geneve)) != 0) Counters.PacketsInGeneve++;
        if ((kinds & (1 << (int)TunnelKind.IpInIp)) != 0) Counters.PacketsInIpInIp++;
    }

    public void AdvanceTime(long timestampNs)
    {
        MoveClock(timestampNs);
        _defragmenter.AdvanceTime(timestampNs);
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
        _defragmenter.Finish();
        _reassembler.CloseAll();
    }
}
