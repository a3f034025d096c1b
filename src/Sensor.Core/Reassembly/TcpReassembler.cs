using System.Buffers;
using Sensor.Core.Flows;
using Sensor.Core.Health;

namespace Sensor.Core.Reassembly;

/// <summary>
/// Turns TCP segments into ordered byte streams, per connection and direction.
///
/// Policy, stated because passive reassembly has to pick one (the endpoints' stacks may differ):
/// <list type="bullet">
/// <item>Bytes already delivered are final: a later retransmission that disagrees is counted as
/// duplicate and ignored ("first wins", as Linux's receive path keeps the bytes it queued first).</item>
/// <item>Among buffered out-of-order segments, the one starting lower wins the overlapping bytes;
/// with equal starts, the one that arrived first.</item>
/// <item>A hole is given up on (reported as a gap with its exact size) when the receiver's ACK shows
/// the bytes passed us (lost before the capture point), when a buffering bound is hit, or when
/// the connection ends.</item>
/// <item>A connection first seen mid-stream starts at the first payload byte seen.</item>
/// </list>
/// Packet time drives every timeout, so a file replays identically every time.
/// </summary>
public sealed class TcpReassembler
{
    private readonly Dictionary<FlowKey, TcpFlow> _flows = new();
    private readonly FlowLru _handshakeOnly = new();
    private readonly FlowLru _established = new();
    private readonly IStreamConsumerFactory _factory;
    private readonly ReassemblyLimits _limits;
    private readonly SensorCounters _counters;
    private readonly bool[] _serverPorts = new bool[65536];
    private readonly long _idleNs;
    private readonly long _handshakeNs;
    private readonly InputPosition _position;
    private long _now; // the clock: the latest packet time seen

    public TcpReassembler(IStreamConsumerFactory factory, ReassemblyLimits limits, SensorCounters counters,
        IEnumerable<ushort> wellKnownServerPorts, InputPosition? position = null)
    {
        _position = position ?? new InputPosition();
        _factory = factory;
        _limits = limits;
        _counters = counters;
        foreach (var p in wellKnownServerPorts) _serverPorts[p] = true;
        _idleNs = (long)limits.IdleTimeout.TotalMicroseconds * 1000;
        _handshakeNs = (long)limits.HandshakeTimeout.TotalMicroseconds * 1000;
    }

    public int FlowCount => _flows.Count;

    public void OnSegment(in TcpSegment seg)
    {
        if (seg.TimestampNs > _now) _now = seg.TimestampNs;
        ExpireIdle(_now);

        var key = new FlowKey(seg.Source, seg.Destination, seg.Tunnel.Realm);
        if (!_flows.TryGetValue(key, out var flow))
        {
            // Only a SYN or payload opens a flow: stray ACKs, FINs and RSTs of connections we never saw
            // (or already closed) cost a lookup and nothing more.
            if (seg.Has(TcpFlags.Rst) || (!seg.Has(TcpFlags.Syn) && seg.Payload.IsEmpty))
            {
                _counters.SegmentsWithoutFlow++;
                return;
            }
            flow = OpenFlow(key, seg);
        }
        else
        {
            flow.LastNs = _now;
            flow.LastPacket = _position.Packet;
            flow.List!.MoveToEnd(flow);
        }

        bool fromLow = seg.Source == key.Low;
        ref HalfStream hs = ref fromLow ? ref flow.LowStream : ref flow.HighStream;
        var dataSeq = new TcpSequence(seg.Sequence);
        if (seg.Has(TcpFlags.Syn))
        {
            dataSeq = dataSeq.Add(1); // the SYN occupies one sequence number (RFC 9293 §3.4)
            if (!hs.Started)
            {
                hs.Started = true;
                hs.NextSequence = dataSeq;
            }
        }

        // The receiver acknowledging bytes we never saw means they were lost before the capture
        // point and no retransmission will come: give up the hole now rather than at close.
        if (seg.Has(TcpFlags.Ack) && !flow.PayloadIgnored)
        {
            ref HalfStream peer = ref fromLow ? ref flow.HighStream : ref flow.LowStream;
            if (peer.HasBuffered && new TcpSequence(seg.Acknowledgment) >= peer.OutOfOrder![0].Sequence)
                SkipToFirstBuffered(flow, ref peer, !fromLow);
            if (!flow.PayloadIgnored) ReportUnseenAcknowledged(flow, ref peer, !fromLow, new TcpSequence(seg.Acknowledgment));
        }

        if (!seg.Payload.IsEmpty)
        {
            if (!flow.SawPayload)
            {
                flow.SawPayload = true;
                _handshakeOnly.Remove(flow);
                _established.AddLast(flow);
            }
            if (!hs.Started)
            {
                hs.Started = true;
                hs.NextSequence = dataSeq;
            }
            if (!flow.PayloadIgnored)
                AcceptPayload(flow, ref hs, fromLow, dataSeq, seg.Payload);
        }

        if (seg.Has(TcpFlags.Rst))
        {
            CloseFlow(flow, FlowCloseReason.Reset);
            return;
        }
        if (seg.Has(TcpFlags.Fin))
        {
            hs.FinSeen = true;
            hs.FinSequence = dataSeq.Add(seg.Payload.Length);
            if (flow.LowStream.FinSeen && flow.HighStream.FinSeen)
                CloseFlow(flow, FlowCloseReason.Fin);
        }
    }

    /// <summary>Advance packet time without a packet (a quiet live link): expires idle flows.</summary>
    public void AdvanceTime(long timestampNs)
    {
        if (timestampNs > _now) _now = timestampNs;
        ExpireIdle(_now);
    }

    /// <summary>End of input: every flow is closed, its holes reported and pending logins settled.</summary>
    public void CloseAll()
    {
        while (_handshakeOnly.Head is { } h) CloseRanked(h, established: false, FlowCloseReason.EndOfInput);
        while (_established.Head is { } e) CloseRanked(e, established: true, FlowCloseReason.EndOfInput);
        _position.Rank = InputPosition.PacketPhase;
    }

    /// <summary>A housekeeping close: its events are ranked by the connection's place in the close order.</summary>
    private void CloseRanked(TcpFlow flow, bool established, FlowCloseReason reason)
    {
        _position.Rank = InputPosition.CloseRank(established, flow.LastPacket);
        CloseFlow(flow, reason);
    }

    private TcpFlow OpenFlow(FlowKey key, in TcpSegment seg)
    {
        TcpFlow? recycled = null;
        if (_flows.Count >= _limits.MaxFlows)
        {
            // Evict handshake-only flows first: a SYN flood must not push out real sessions.
            var victim = _handshakeOnly.Head ?? _established.Head!;
            _counters.FlowsEvictedAtLimit++;
            CloseFlow(victim, FlowCloseReason.Evicted);
            recycled = victim; // closed and unlinked: nothing refers to it any more
        }

        bool senderIsClient;
        bool fromHandshake = false;
        if (seg.Has(TcpFlags.Syn))
        {
            senderIsClient = !seg.Has(TcpFlags.Ack);
            fromHandshake = true;
        }
        else if (_serverPorts[seg.Destination.Port] != _serverPorts[seg.Source.Port])
            senderIsClient = _serverPorts[seg.Destination.Port];
        else
            senderIsClient = seg.Destination.Port <= seg.Source.Port;

        bool senderIsLow = seg.Source == key.Low;
        var flow = recycled?.Reset(key, senderIsClient == senderIsLow, fromHandshake, _now, seg.Tunnel)
                   ?? new TcpFlow(key, clientIsLow: senderIsClient == senderIsLow, fromHandshake, _now, seg.Tunnel);
        flow.LastPacket = _position.Packet;
        _flows.Add(key, flow);
        _handshakeOnly.AddLast(flow);
        _counters.FlowsCreated++;
        flow.Consumer = _factory.Create(flow);
        return flow;
    }

    private void AcceptPayload(TcpFlow flow, ref HalfStream hs, bool fromLow, TcpSequence dataSeq, ReadOnlySpan<byte> payload)
    {
        int distance = hs.DistanceFromNext(dataSeq);
        if (distance <= 0)
        {
            int old = -distance;
            if (old >= payload.Length)
            {
                _counters.BytesDuplicate += payload.Length;
                return;
            }
            _counters.BytesDuplicate += old;
            var fresh = payload[old..];
            hs.NextSequence = hs.NextSequence.Add(fresh.Length);
            if (!Deliver(flow, fromLow, fresh)) return;
            DrainInOrder(flow, ref hs, fromLow);
            return;
        }

        _counters.SegmentsOutOfOrder++;
        BufferOutOfOrder(ref hs, dataSeq, payload);
        // Bounds: give up the oldest hole until this flow and the whole table are within budget.
        while (hs.HasBuffered && !flow.PayloadIgnored && OverBudget(flow, in hs))
            SkipToFirstBuffered(flow, ref hs, fromLow);
    }

    private bool OverBudget(TcpFlow flow, in HalfStream hs)
    {
        if (hs.OutOfOrder!.Count > _limits.MaxBufferedSegmentsPerDirection
            || flow.LowStream.BufferedBytes + flow.HighStream.BufferedBytes > _limits.MaxBufferedBytesPerFlow)
        {
            _counters.FlowBufferLimitHits++;
            return true;
        }
        if (_counters.BytesBufferedNow > _limits.MaxBufferedBytesTotal)
        {
            _counters.GlobalBufferLimitHits++;
            return true;
        }
        return false;
    }

    private void BufferOutOfOrder(ref HalfStream hs, TcpSequence seq, ReadOnlySpan<byte> payload)
    {
        var list = hs.OutOfOrder ??= new List<BufferedSegment>(4);
        var data = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(data);
        // Insert after every segment that starts at or before this one (keeps arrival order for ties).
        int i = list.Count;
        while (i > 0 && seq < list[i - 1].Sequence) i--;
        list.Insert(i, new BufferedSegment { Sequence = seq, Data = data, Length = payload.Length });
        hs.BufferedBytes += payload.Length;
        _counters.AddBuffered(payload.Length);
    }

    private void DrainInOrder(TcpFlow flow, ref HalfStream hs, bool fromLow)
    {
        var list = hs.OutOfOrder;
        while (list is { Count: > 0 })
        {
            var first = list[0];
            int distance = hs.DistanceFromNext(first.Sequence);
            if (distance > 0) return;
            list.RemoveAt(0);
            hs.BufferedBytes -= first.Length;
            _counters.AddBuffered(-first.Length);
            int old = -distance;
            bool keepGoing = true;
            if (old < first.Length)
            {
                _counters.BytesDuplicate += old;
                hs.NextSequence = hs.NextSequence.Add(first.Length - old);
                keepGoing = Deliver(flow, fromLow, first.Data.AsSpan(old, first.Length - old));
            }
            else
            {
                _counters.BytesDuplicate += first.Length;
            }
            ArrayPool<byte>.Shared.Return(first.Data);
            if (!keepGoing) return;
        }
    }

    /// <summary>
    /// The receiver acknowledges bytes the capture has not delivered (a FIN counts one sequence number
    /// and is not data). Its next words may answer them, so the consumer hears of it before they come.
    /// </summary>
    private void ReportUnseenAcknowledged(TcpFlow flow, ref HalfStream peer, bool peerIsLow, TcpSequence ack)
    {
        if (!peer.Started) return;
        int ahead = peer.NextSequence.Difference(ack);
        if (peer.FinSeen && ack > peer.FinSequence) ahead--;
        if (ahead <= 0 || (peer.UnseenAckReportedSet && ack <= peer.UnseenAckReported)) return;
        peer.UnseenAckReported = ack;
        peer.UnseenAckReportedSet = true;
        flow.Consumer!.OnUnseenBytesAcknowledged(flow.DirectionOf(peerIsLow), _now);
    }

    /// <summary>Give up the hole before the first buffered segment: report it, then deliver what follows.</summary>
    private void SkipToFirstBuffered(TcpFlow flow, ref HalfStream hs, bool fromLow)
    {
        int hole = hs.DistanceFromNext(hs.OutOfOrder![0].Sequence);
        if (hole > 0)
        {
            _counters.Gaps++;
            _counters.GapBytes += hole;
            hs.NextSequence = hs.NextSequence.Add(hole);
            flow.Consumer!.OnGap(flow.DirectionOf(fromLow), hole, _now);
        }
        DrainInOrder(flow, ref hs, fromLow);
    }

    private bool Deliver(TcpFlow flow, bool fromLow, ReadOnlySpan<byte> data)
    {
        if (flow.Consumer!.OnData(flow.DirectionOf(fromLow), data, _now)) return true;
        flow.PayloadIgnored = true;
        ReleaseBuffers(ref flow.LowStream);
        ReleaseBuffers(ref flow.HighStream);
        return false;
    }

    private void ReleaseBuffers(ref HalfStream hs)
    {
        if (hs.OutOfOrder is null) return;
        foreach (var b in hs.OutOfOrder) ArrayPool<byte>.Shared.Return(b.Data);
        _counters.AddBuffered(-hs.BufferedBytes);
        hs.BufferedBytes = 0;
        hs.OutOfOrder = null;
    }

    private void ExpireIdle(long now)
    {
        while (_handshakeOnly.Head is { } h && now - h.LastNs > _handshakeNs)
        {
            _counters.FlowsExpired++;
            CloseRanked(h, established: false, FlowCloseReason.IdleTimeout);
        }
        while (_established.Head is { } e && now - e.LastNs > _idleNs)
        {
            _counters.FlowsExpired++;
            CloseRanked(e, established: true, FlowCloseReason.IdleTimeout);
        }
        _position.Rank = InputPosition.PacketPhase;
    }

    /// <summary>The FIN's sequence number tells how many bytes the direction carried: a lost last segment is a gap too.</summary>
    private void ReportMissingTail(TcpFlow flow, ref HalfStream hs, bool fromLow)
    {
        if (!hs.FinSeen || !hs.Started) return;
        int missing = hs.DistanceFromNext(hs.FinSequence);
        if (missing <= 0) return;
        _counters.Gaps++;
        _counters.GapBytes += missing;
        hs.NextSequence = hs.FinSequence;
        flow.Consumer!.OnGap(flow.DirectionOf(fromLow), missing, _now);
    }

    private void CloseFlow(TcpFlow flow, FlowCloseReason reason)
    {
        if (!flow.PayloadIgnored)
        {
            while (flow.LowStream.HasBuffered && !flow.PayloadIgnored) SkipToFirstBuffered(flow, ref flow.LowStream, true);
            while (flow.HighStream.HasBuffered && !flow.PayloadIgnored) SkipToFirstBuffered(flow, ref flow.HighStream, false);
        }
        ReleaseBuffers(ref flow.LowStream);
        ReleaseBuffers(ref flow.HighStream);
        if (!flow.PayloadIgnored)
        {
            ReportMissingTail(flow, ref flow.LowStream, true);
            ReportMissingTail(flow, ref flow.HighStream, false);
        }
        flow.List?.Remove(flow);
        _flows.Remove(flow.Key);
        _counters.FlowsClosed++;
        flow.Consumer?.OnClose(reason, _now);
    }
}
