using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Sensor.Core.Tests.Reassembly;

/// <summary>
/// Random byte streams, both directions, cut into random segments and delivered reordered, duplicated
/// and with overlapping retransmissions of the same bytes: the consumer must see each stream exactly
/// once, in order, and holes exactly where and as large as they are. Seeds are pinned.
/// </summary>
public sealed class TcpReassemblerProperties
{
    private const int MaxStream = 4000;
    private const int MaxSegments = 60;
    private static readonly IpEndpoint ClientEnd = Endpoints.At("10.0.0.1", 40000);
    private static readonly IpEndpoint ServerEnd = Endpoints.At("10.0.0.2", 5555);

    [Property(MaxTest = 300, Replay = "(8210456311,1013904223)")]
    public Property ReorderedDuplicatedOverlappingSegmentsAfterHandshakeReassembleExactly() =>
        Prop.ForAll(Scenarios(handshake: true, drop: false).ToArbitrary(), s => CheckScenario(s));

    [Property(MaxTest = 300, Replay = "(771203344,2654435761)")]
    public Property ReorderedDuplicatedOverlappingSegmentsPickedUpMidStreamReassembleExactly() =>
        Prop.ForAll(Scenarios(handshake: false, drop: false).ToArbitrary(), s => CheckScenario(s));

    [Property(MaxTest = 300, Replay = "(4029371,40503)")]
    public Property DroppedSegmentAfterHandshakeIsReportedAsAGapOfExactlyItsLength() =>
        Prop.ForAll(Scenarios(handshake: true, drop: true).ToArbitrary(), s => CheckScenario(s));

    [Property(MaxTest = 300, Replay = "(99991,314159265)")]
    public Property DroppedSegmentPickedUpMidStreamIsReportedAsAGapOfExactlyItsLength() =>
        Prop.ForAll(Scenarios(handshake: false, drop: true).ToArbitrary(), s => CheckScenario(s));

    /// <summary>Guards the generators: a property over traffic that never wraps, reorders or overlaps proves nothing.</summary>
    [Fact]
    public void GeneratedTrafficWrapsReordersDuplicatesAndOverlaps()
    {
        var sample = Gen.Sample(Scenarios(handshake: true, drop: false), 300, new Rnd(12345UL, 67891UL), 100)
            .Concat(Gen.Sample(Scenarios(handshake: false, drop: true), 300, new Rnd(54321UL, 19877UL), 100))
            .SelectMany(s => new[] { s.Client, s.Server })
            .ToList();
        Assert.True(sample.Count(p => p.Data.Length > 0 && (ulong)p.Isn + 1 + (ulong)p.Data.Length > uint.MaxValue) > 100, "too few streams wrap 2^32");
        Assert.True(sample.Count(p => p.Deliveries.Zip(p.Deliveries.Skip(1)).Any(x => x.Second.Start > x.First.End)) > 500, "too few streams arrive out of order");
        Assert.True(sample.Count(p => p.Deliveries.Length > p.Deliveries.Distinct().Count()) > 400, "too few exact duplicates");
        Assert.True(sample.Count(p => p.Deliveries.Any(d => !p.Segments.Contains(d))) > 400, "too few straddling retransmissions");
        Assert.True(sample.Count(p => p.Dropped > 0) > 250, "too few dropped segments");
        Assert.True(sample.Count(p => p.Data.Length == 0) > 10, "too few empty streams");
    }

    // ---- the check --------------------------------------------------------------------------------

    private static void CheckScenario(Scenario s)
    {
        var (factory, counters) = Run(s);
        bool anyPayload = s.Client.Data.Length > 0 || s.Server.Data.Length > 0;
        int expectedFlows = s.Handshake || anyPayload ? 1 : 0;
        Assert.Equal(expectedFlows, factory.Created.Count);
        if (expectedFlows == 0) return;

        var consumer = factory.Created[0];
        Assert.Equal(ClientEnd, consumer.Flow.Client);
        Assert.Equal(ServerEnd, consumer.Flow.Server);
        Assert.Equal(Expected(s.Client), RecordingConsumer.Normalize(consumer.ClientToServer), PieceComparer.Instance);
        Assert.Equal(Expected(s.Server), RecordingConsumer.Normalize(consumer.ServerToClient), PieceComparer.Instance);

        var expectedReason = s.Close switch
        {
            CloseKind.Fin => FlowCloseReason.Fin,
            CloseKind.Rst => FlowCloseReason.Reset,
            _ => FlowCloseReason.EndOfInput,
        };
        Assert.Equal([expectedReason], consumer.Closes);

        var holes = new[] { s.Client, s.Server }.Where(p => p.Dropped >= 0).Select(p => p.Segments[p.Dropped]).ToList();
        Assert.Equal(holes.Count, counters.Gaps);
        Assert.Equal(holes.Sum(h => (long)(h.End - h.Start)), counters.GapBytes);
        Assert.Equal(0, counters.BytesBufferedNow);
        Assert.Equal(0, counters.FlowBufferLimitHits + counters.GlobalBufferLimitHits);
    }

    private static List<Piece> Expected(DirectionPlan p)
    {
        var pieces = new List<Piece>();
        if (p.Dropped < 0)
        {
            if (p.Data.Length > 0) pieces.Add(new Piece(p.Data, 0));
            return pieces;
        }
        var hole = p.Segments[p.Dropped];
        if (hole.Start > 0) pieces.Add(new Piece(p.Data[..hole.Start], 0));
        pieces.Add(new Piece(null, hole.End - hole.Start));
        pieces.Add(new Piece(p.Data[hole.End..], 0));
        return pieces;
    }

    private static (RecordingConsumerFactory, SensorCounters) Run(Scenario s)
    {
        var factory = new RecordingConsumerFactory();
        var counters = new SensorCounters();
        var r = new TcpReassembler(factory, new ReassemblyLimits(), counters, [ServerEnd.Port]);
        long t = PacketClock.Start;
        void Send(IpEndpoint from, IpEndpoint to, uint seq, uint ack, TcpFlags flags, ReadOnlySpan<byte> payload) =>
            r.OnSegment(new TcpSegment(from, to, seq, ack, flags, payload, t += PacketClock.Step));

        uint cBase = s.Client.Isn, sBase = s.Server.Isn;
        if (s.Handshake)
        {
            Send(ClientEnd, ServerEnd, s.Client.Isn, 0, TcpFlags.Syn, default);
            Send(ServerEnd, ClientEnd, s.Server.Isn, s.Client.Isn + 1, TcpFlags.Syn | TcpFlags.Ack, default);
            Send(ClientEnd, ServerEnd, s.Client.Isn + 1, s.Server.Isn + 1, TcpFlags.Ack, default);
            cBase++;
            sBase++;
        }

        // Each side acknowledges only the contiguous prefix of the peer's bytes seen so far, as a
        // receiver behind the capture point would: never past a hole.
        var cSeen = new Coverage(s.Client.Data.Length);
        var sSeen = new Coverage(s.Server.Data.Length);
        int ci = 0, si = 0;
        foreach (bool fromClient in s.Order)
        {
            if (fromClient)
            {
                var d = s.Client.Deliveries[ci++];
                Send(ClientEnd, ServerEnd, cBase + (uint)d.Start, sBase + (uint)sSeen.Prefix, TcpFlags.Ack | TcpFlags.Psh,
                    s.Client.Data.AsSpan(d.Start, d.End - d.Start));
                cSeen.Mark(d);
            }
            else
            {
                var d = s.Server.Deliveries[si++];
                Send(ServerEnd, ClientEnd, sBase + (uint)d.Start, cBase + (uint)cSeen.Prefix, TcpFlags.Ack | TcpFlags.Psh,
                    s.Server.Data.AsSpan(d.Start, d.End - d.Start));
                sSeen.Mark(d);
            }
        }

        uint cEnd = cBase + (uint)s.Client.Data.Length, sEnd = sBase + (uint)s.Server.Data.Length;
        if (s.AckEverything)
        {
            // Both receivers acknowledge the whole stream: whatever we are missing was lost before us.
            Send(ClientEnd, ServerEnd, cEnd, sEnd, TcpFlags.Ack, default);
            Send(ServerEnd, ClientEnd, sEnd, cEnd, TcpFlags.Ack, default);
        }
        switch (s.Close)
        {
            case CloseKind.Fin:
                Send(ClientEnd, ServerEnd, cEnd, sEnd, TcpFlags.Fin | TcpFlags.Ack, default);
                Send(ServerEnd, ClientEnd, sEnd, cEnd + 1, TcpFlags.Fin | TcpFlags.Ack, default);
                break;
            case CloseKind.Rst:
                Send(ClientEnd, ServerEnd, cEnd, sEnd, TcpFlags.Rst | TcpFlags.Ack, default);
                break;
            case CloseKind.EndOfInput:
                r.CloseAll();
                break;
        }
        Assert.Equal(0, r.FlowCount);
        return (factory, counters);
    }

    private sealed class Coverage(int length)
    {
        private readonly bool[] _seen = new bool[length];
        public int Prefix { get; private set; }

        public void Mark(Cut c)
        {
            for (int i = c.Start; i < c.End; i++) _seen[i] = true;
            while (Prefix < _seen.Length && _seen[Prefix]) Prefix++;
        }
    }

    // ---- generators -------------------------------------------------------------------------------

    private static Gen<Scenario> Scenarios(bool handshake, bool drop) =>
        from client in Plans(handshake, drop)
        from server in Plans(handshake, drop)
        from order in Gen.Shuffle(Enumerable.Repeat(true, client.Deliveries.Length)
            .Concat(Enumerable.Repeat(false, server.Deliveries.Length)).ToArray())
        from close in Gen.Elements(CloseKind.Fin, CloseKind.Rst, CloseKind.EndOfInput)
        from ackEverything in Gen.Elements(false, drop)
        select new Scenario(handshake, client, server, order, close, ackEverything);

    /// <summary>Initial sequence numbers anywhere, half of them within 3000 of 2^32 so streams wrap.</summary>
    private static Gen<uint> Isns() => Gen.Frequency(
        (1, Gen.Choose(0, 3000).Select(d => uint.MaxValue - (uint)d)),
        (1, Gen.Zip(Gen.Choose(0, 0xFFFF), Gen.Choose(0, 0xFFFF), (hi, lo) => ((uint)hi << 16) | (uint)lo)));

    private static Gen<DirectionPlan> Plans(bool handshake, bool drop)
    {
        // A droppable segment needs one before it (mid-stream: the first seen starts the stream) and one
        // after it (a missing tail cannot be noticed).
        int minSegments = drop ? 3 : 0;
        return
            from n in Lengths(drop ? minSegments : 0)
            from data in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)
            from isn in Isns()
            from segments in Segmentation(n, Math.Max(1, minSegments))
            from dropped in drop ? Gen.Choose(handshake ? 0 : 1, segments.Length - 2) : Gen.Constant(-1)
            from retransmissions in Gen.Choose(0, 15).SelectMany(k => Gen.ArrayOf(Retransmission(n), k))
            from duplicates in Gen.Choose(0, 10).SelectMany(k => Gen.ArrayOf(Gen.Choose(0, Math.Max(0, segments.Length - 1)), k))
            let pool = BuildPool(segments, dropped, retransmissions, duplicates)
            from shuffled in Gen.Shuffle(pool)
            select new DirectionPlan(data, isn, segments, dropped, handshake ? shuffled : FirstSegmentFirst(shuffled, segments));
    }

    /// <summary>Stream lengths up to 4000, with empty and short streams far more often than uniform would give.</summary>
    private static Gen<int> Lengths(int min) => Gen.Frequency(
        (1, Gen.Constant(min)),
        (3, Gen.Choose(min, 40)),
        (6, Gen.Choose(min, MaxStream)));

    private static Gen<Cut[]> Segmentation(int n, int minSegments)
    {
        if (n == 0) return Gen.Constant(Array.Empty<Cut>());
        return
            from k in Gen.Choose(minSegments, Math.Min(n, MaxSegments))
            from points in Gen.Shuffle(Enumerable.Range(1, n - 1).ToArray())
            select ToCuts(points.Take(k - 1).Order().ToArray(), n);
    }

    private static Cut[] ToCuts(int[] points, int n)
    {
        var cuts = new Cut[points.Length + 1];
        int start = 0;
        for (int i = 0; i < points.Length; i++) { cuts[i] = new Cut(start, points[i]); start = points[i]; }
        cuts[^1] = new Cut(start, n);
        return cuts;
    }

    /// <summary>A range anywhere in the stream, straddling segment boundaries, carrying the same bytes.</summary>
    private static Gen<Cut> Retransmission(int n) =>
        n == 0
            ? Gen.Constant(new Cut(0, 0))
            : from start in Gen.Choose(0, n - 1)
              from length in Gen.Choose(1, 800)
              select new Cut(start, Math.Min(n, start + length));

    private static Cut[] BuildPool(Cut[] segments, int dropped, Cut[] retransmissions, int[] duplicates)
    {
        var hole = dropped >= 0 ? segments[dropped] : new Cut(0, 0);
        bool Touches(Cut c) => dropped >= 0 && c.Start < hole.End && hole.Start < c.End;
        return segments.Where((_, i) => i != dropped)
            .Concat(duplicates.Where(i => i < segments.Length && i != dropped).Select(i => segments[i]))
            .Concat(retransmissions.Where(c => c.End > c.Start && !Touches(c)))
            .ToArray();
    }

    /// <summary>Mid-stream pickup: the first segment seen must be the one that starts the stream.</summary>
    private static Cut[] FirstSegmentFirst(Cut[] shuffled, Cut[] segments)
    {
        if (segments.Length == 0) return shuffled;
        var list = shuffled.ToList();
        list.Remove(segments[0]);
        list.Insert(0, segments[0]);
        return list.ToArray();
    }

    // ---- model ------------------------------------------------------------------------------------

    public readonly record struct Cut(int Start, int End)
    {
        public override string ToString() => $"[{Start},{End})";
    }

    public enum CloseKind { Fin, Rst, EndOfInput }

    public sealed record DirectionPlan(byte[] Data, uint Isn, Cut[] Segments, int Dropped, Cut[] Deliveries)
    {
        public override string ToString() =>
            $"{{n={Data.Length} isn={Isn} segments={string.Join(' ', Segments)} dropped={Dropped} deliveries={string.Join(' ', Deliveries)}}}";
    }

    public sealed record Scenario(bool Handshake, DirectionPlan Client, DirectionPlan Server, bool[] Order,
        CloseKind Close, bool AckEverything)
    {
        public override string ToString() =>
            $"handshake={Handshake} close={Close} ackEverything={AckEverything}\n client={Client}\n server={Server}\n order={string.Concat(Order.Select(o => o ? 'c' : 's'))}";
    }

    private sealed class PieceComparer : IEqualityComparer<Piece>
    {
        public static readonly PieceComparer Instance = new();
        public bool Equals(Piece a, Piece b) =>
            a.Gap == b.Gap && (a.Data is null ? b.Data is null : b.Data is not null && a.Data.AsSpan().SequenceEqual(b.Data));
        public int GetHashCode(Piece p) => p.Data?.Length ?? (int)p.Gap;
    }
}
