using System.Collections.Concurrent;
using Sensor.Core.Detection;

namespace Sensor.Core.Tests.Detection;

/// <summary>
/// A bug in one connection's analysis gives up that connection alone: counted, reported once with
/// its flow id, and every other connection is analysed as before.
/// </summary>
public sealed class FaultBoundaryTests
{
    private static readonly ConcurrentBag<(string FlowId, string Where)> Reports = [];

    static FaultBoundaryTests() => AnalyzerFaultLog.Use((flowId, where) => Reports.Add((flowId, where)));

    /// <summary>Throws on the n-th data chunk of its connection, as a parser bug would.</summary>
    private sealed class BuggyAnalyzer(int failOnChunk) : IStreamConsumer
    {
        public int Chunks;
        public int Gaps;
        public bool Closed;

        public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
        {
            if (++Chunks == failOnChunk) throw new IndexOutOfRangeException("bytes from the wire: PASS hunter2");
            return true;
        }

        public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs) => Gaps++;
        public void OnClose(FlowCloseReason reason, long timestampNs) => Closed = true;
    }

    /// <summary>Connections to port 143 on 10.0.0.66 get the buggy analyzer; every other one the real one.</summary>
    private sealed class Factory(AnalysisContext context, BuggyAnalyzer buggy) : IStreamConsumerFactory
    {
        private readonly MailConsumerFactory _real = new(context);
        public string? BuggyFlowId;

        public IStreamConsumer Create(TcpFlow flow)
        {
            if (flow.Server != BuggyServer) return _real.Create(flow);
            BuggyFlowId = flow.FlowId;
            return new FaultBoundary(buggy, flow, context.Counters);
        }
    }

    private static readonly IpEndpoint BuggyServer = Endpoints.At("10.0.0.66", 143);

    [Fact]
    public void AnExceptionInOneConnectionGivesUpThatConnectionAloneAndIsCountedAndReportedOnce()
    {
        var counters = new SensorCounters();
        var sink = new CollectingSink();
        var context = new AnalysisContext(new AnalysisOptions(), new ServerPostureTracker(sink), counters);
        var buggy = new BuggyAnalyzer(failOnChunk: 2);
        var factory = new Factory(context, buggy);
        var reassembler = new TcpReassembler(factory, new ReassemblyLimits(), counters, [143]);
        var clock = new PacketClock();

        var bad = new TcpConversation(reassembler, clock, Endpoints.At("10.0.0.1", 41000), BuggyServer).Handshake();
        var good = new TcpConversation(reassembler, clock, Endpoints.At("10.0.0.1", 41001), Endpoints.ImapServer).Handshake();
        bad.ServerSends("* OK IMAP4rev1 ready\r\n");
        good.ServerSends("* OK IMAP4rev1 ready\r\n");
        bad.ClientSends("a1 LOGIN mallory hunter2\r\n"); // the analyzer throws here
        good.ClientSends("a1 LOGIN alice secret\r\n");
        bad.ServerSends("a1 OK\r\n");
        bad.ClientSends("a2 LOGOUT\r\n");
        good.ServerSends("a1 OK LOGIN completed\r\n");
        bad.FinBoth();
        good.FinBoth();
        reassembler.CloseAll();

        Assert.Equal(1, counters.AnalyzerFaults);
        Assert.Equal(2, buggy.Chunks);   // nothing handed over after the fault
        Assert.False(buggy.Closed);      // its state is not trusted to settle anything
        var login = Assert.Single(sink.Auths);
        Assert.Equal("alice", login.Username);
        Assert.Equal(AuthOutcome.Success, login.Outcome);

        var report = Assert.Single(Reports, r => r.FlowId == factory.BuggyFlowId);
        Assert.StartsWith("IndexOutOfRangeException at BuggyAnalyzer.OnData", report.Where);
        Assert.DoesNotContain("hunter2", report.Where); // the exception's message may quote the wire
    }
}
