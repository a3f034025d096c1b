namespace Sensor.Core.Tests.Reassembly;

/// <summary>Every bound of the reassembler holds, is counted, and costs the right flows or bytes.</summary>
public sealed class TcpReassemblerBoundsTests
{
    private static readonly IpEndpoint Server = Endpoints.At("10.0.0.2", 5555);
    private static IpEndpoint ClientNumber(int i) => Endpoints.At($"10.1.{i / 250}.{i % 250 + 1}", (ushort)(20000 + i % 30000));

    [Fact]
    public void MaxFlowsExceededEvictsTheLeastRecentlyActiveFlow()
    {
        var t = new RecordingReassembler(new ReassemblyLimits { MaxFlows = 3 });
        IpEndpoint a = ClientNumber(0), b = ClientNumber(1), c = ClientNumber(2), d = ClientNumber(3);
        t.Send(a, Server, 100, TcpFlags.Ack, "a"u8);
        t.Send(b, Server, 100, TcpFlags.Ack, "b"u8);
        t.Send(c, Server, 100, TcpFlags.Ack, "c"u8);
        t.Send(a, Server, 101, TcpFlags.Ack, "a"u8); // a is now more recent than b

        t.Send(d, Server, 100, TcpFlags.Ack, "d"u8);

        Assert.Equal(3, t.Reassembler.FlowCount);
        Assert.Equal(1, t.Counters.FlowsEvictedAtLimit);
        var (ca, cb, cc, cd) = (t.Factory.Created[0], t.Factory.Created[1], t.Factory.Created[2], t.Factory.Created[3]);
        Assert.Equal([FlowCloseReason.Evicted], cb.Closes);
        Assert.Empty(ca.Closes);
        Assert.Empty(cc.Closes);
        Assert.Empty(cd.Closes);

        t.Send(a, Server, 102, TcpFlags.Ack, "A"u8);
        Assert.Equal(4, t.Factory.Created.Count); // a's flow survived: no new consumer
        Assert.Equal("aaA"u8.ToArray(), RecordingConsumer.Bytes(ca.ClientToServer));
    }

    [Fact]
    public void FlowCountNeverExceedsMaxFlowsAndEveryEvictionIsCounted()
    {
        var t = new RecordingReassembler(new ReassemblyLimits { MaxFlows = 10 });
        for (int i = 0; i < 100; i++)
        {
            t.Send(ClientNumber(i), Server, 7, TcpFlags.Ack | TcpFlags.Psh, "payload"u8);
            Assert.InRange(t.Reassembler.FlowCount, 1, 10);
        }
        Assert.Equal(90, t.Counters.FlowsEvictedAtLimit);
        Assert.All(t.Factory.Created.Take(90), c => Assert.Equal([FlowCloseReason.Evicted], c.Closes));
        Assert.All(t.Factory.Created.Skip(90), c => Assert.Empty(c.Closes));
    }

    [Fact]
    public void SynFloodKeepsFlowCountBoundedAndAnEstablishedLoginSurvives()
    {
        var h = new MailHarness(new AnalysisOptions { RevealSecrets = true }, new ReassemblyLimits { MaxFlows = 1000 });
        var session = h.Connect(Endpoints.Client, Endpoints.ImapServer);
        session.ServerSends("* OK IMAP4rev1 ready\r\n");
        session.ClientSends("a1 LOGIN alice secret\r\n");

        for (int i = 0; i < 10_000; i++)
        {
            h.Reassembler.OnSegment(new TcpSegment(ClientNumber(i), Endpoints.ImapServer, (uint)i * 7919, 0, TcpFlags.Syn,
                default, h.Clock.Tick()));
            Assert.True(h.Reassembler.FlowCount <= 1000, $"FlowCount {h.Reassembler.FlowCount} after SYN {i}");
        }
        Assert.Equal(10_000 - 999, h.Counters.FlowsEvictedAtLimit);

        session.ServerSends("a1 OK LOGIN completed\r\n");
        session.FinBoth();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void BufferedBytesPerFlowStayWithinTheBoundAndPermanentHolesBecomeCountedGaps()
    {
        const int limit = 4096, segment = 500;
        var t = new RecordingReassembler(new ReassemblyLimits { MaxBufferedBytesPerFlow = limit });
        var client = ClientNumber(0);
        var data = RecordingReassembler.Pattern(40 * segment);
        int[] lost = [1, 12, 25];
        const uint isn = 4_294_960_000; // wraps inside the stream

        t.Send(client, Server, isn, TcpFlags.Syn);
        for (int i = 0; i < 40; i++)
        {
            if (lost.Contains(i)) continue;
            t.Send(client, Server, isn + 1 + (uint)(i * segment), TcpFlags.Ack | TcpFlags.Psh, data.AsSpan(i * segment, segment));
            var flow = t.Single().Flow;
            Assert.True(flow.LowStream.BufferedBytes + flow.HighStream.BufferedBytes <= limit + segment, $"after segment {i}");
            Assert.True(t.Counters.BytesBufferedNow <= limit + segment, $"after segment {i}");
        }

        // All three holes were given up because of the bound, before the connection ended.
        Assert.Equal(3, t.Counters.Gaps);
        Assert.Equal(3 * segment, t.Counters.GapBytes);
        Assert.True(t.Counters.FlowBufferLimitHits >= 3);
        Assert.True(t.Counters.BytesBufferedPeak <= limit + segment);

        t.Reassembler.CloseAll();
        var expected = new List<Piece>();
        int at = 0;
        foreach (int i in lost)
        {
            if (i * segment > at) expected.Add(new Piece(data[at..(i * segment)], 0));
            expected.Add(new Piece(null, segment));
            at = (i + 1) * segment;
        }
        expected.Add(new Piece(data[at..], 0));
        AssertPieces(expected, t.Single().ClientToServer);
        Assert.Equal(0, t.Counters.BytesBufferedNow);
    }

    [Fact]
    public void BufferedSegmentsPerDirectionStayWithinTheBound()
    {
        var t = new RecordingReassembler(new ReassemblyLimits { MaxBufferedSegmentsPerDirection = 8 });
        var client = ClientNumber(0);
        t.Send(client, Server, 1000, TcpFlags.Syn);
        // Byte 0 never arrives; bytes 1..30 arrive one per segment.
        for (int i = 1; i <= 30; i++)
        {
            t.Send(client, Server, 1001 + (uint)i, TcpFlags.Ack, [(byte)i]);
            Assert.True((t.Single().Flow.LowStream.OutOfOrder?.Count ?? 0) <= 8);
            Assert.True((t.Single().Flow.HighStream.OutOfOrder?.Count ?? 0) <= 8);
        }
        Assert.Equal(1, t.Counters.Gaps);
        Assert.Equal(1, t.Counters.GapBytes);
        Assert.True(t.Counters.FlowBufferLimitHits >= 1);
        AssertPieces([new Piece(null, 1), new Piece(Enumerable.Range(1, 30).Select(i => (byte)i).ToArray(), 0)],
            t.Single().ClientToServer);
    }

    [Fact]
    public void BufferedBytesAcrossFlowsStayWithinTheGlobalBound()
    {
        const int segment = 400;
        var t = new RecordingReassembler(new ReassemblyLimits { MaxBufferedBytesTotal = 3000 });
        for (int f = 0; f < 4; f++)
        {
            var client = ClientNumber(f);
            t.Send(client, Server, 0, TcpFlags.Syn);
            // The first segment of every flow is lost.
            for (int i = 1; i <= 4; i++)
            {
                t.Send(client, Server, 1 + (uint)(i * segment), TcpFlags.Ack, RecordingReassembler.Pattern(segment, i));
                Assert.True(t.Counters.BytesBufferedNow <= 3000 + segment, $"flow {f} segment {i}: {t.Counters.BytesBufferedNow}");
            }
        }
        Assert.True(t.Counters.GlobalBufferLimitHits >= 1);
        Assert.True(t.Counters.Gaps >= 1);
        Assert.True(t.Counters.BytesBufferedPeak <= 3000 + segment);
    }

    [Fact]
    public void IdleFlowExpiresByPacketTimeAndItsPendingLoginIsReportedUnknown()
    {
        var h = new MailHarness();
        var c = h.Connect(Endpoints.Client, Endpoints.ImapServer);
        c.ServerSends("* OK ready\r\n");
        c.ClientSends("a1 LOGIN alice secret\r\n");
        long last = h.Clock.Now;
        long idle = (long)new ReassemblyLimits().IdleTimeout.TotalNanoseconds;

        h.Reassembler.AdvanceTime(last + idle);
        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Reassembler.FlowCount);

        h.Reassembler.AdvanceTime(last + idle + 1);
        Assert.Equal(0, h.Reassembler.FlowCount);
        Assert.Equal(1, h.Counters.FlowsExpired);
        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "LOGIN", "alice", null, CredentialExposure.Cleartext, AuthOutcome.Unknown);
    }

    [Fact]
    public void IdleFlowExpiresWhenALaterPacketOfAnotherFlowArrives()
    {
        var h = new MailHarness();
        var c = h.Connect(Endpoints.Client, Endpoints.Pop3Server);
        c.ServerSends("+OK POP3 ready\r\n");
        c.ClientSends("USER alice\r\n");
        c.ServerSends("+OK\r\n");
        c.ClientSends("PASS secret\r\n");
        long idle = (long)new ReassemblyLimits().IdleTimeout.TotalNanoseconds;
        h.Clock.Advance(idle);

        h.Reassembler.OnSegment(new TcpSegment(ClientNumber(9), Endpoints.Pop3Server, 1, 0, TcpFlags.Syn, default, h.Clock.Tick()));

        Assert.Equal(1, h.Counters.FlowsExpired);
        Assert.Equal(1, h.Reassembler.FlowCount); // only the new SYN's flow
        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "USER", "alice", null, CredentialExposure.Cleartext, AuthOutcome.Unknown);
    }

    [Fact]
    public void HandshakeOnlyFlowExpiresAfterTheHandshakeTimeout()
    {
        var t = new RecordingReassembler();
        t.Send(ClientNumber(0), Server, 1, TcpFlags.Syn);
        long start = t.Clock.Now;
        long timeout = (long)new ReassemblyLimits().HandshakeTimeout.TotalNanoseconds;

        t.Reassembler.AdvanceTime(start + timeout);
        Assert.Equal(1, t.Reassembler.FlowCount);

        t.Reassembler.AdvanceTime(start + timeout + 1);
        Assert.Equal(0, t.Reassembler.FlowCount);
        Assert.Equal(1, t.Counters.FlowsExpired);
        Assert.Equal([FlowCloseReason.IdleTimeout], t.Single().Closes);
    }

    internal static void AssertPieces(List<Piece> expected, List<Piece> actual)
    {
        var got = RecordingConsumer.Normalize(actual);
        Assert.Equal(string.Join(" ", expected), string.Join(" ", got));
        for (int i = 0; i < expected.Count; i++)
        {
            if (expected[i].Data is { } d) Assert.True(d.AsSpan().SequenceEqual(got[i].Data), $"bytes of piece {i} differ");
        }
    }
}
