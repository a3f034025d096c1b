namespace Sensor.Core.Tests.Robustness;

/// <summary>
/// Connections whose segments jump anywhere in sequence space (far ahead, behind, across the 2^32
/// wrap), carry random flags and acknowledge bytes never sent, round after round through one
/// long-lived reassembler: buffers and flow table stay within their limits, memory does not creep,
/// and the valid login placed after each round's chaos is reported.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class SequenceChaosTests
{
    private static readonly ReassemblyLimits Tight = new()
    {
        MaxFlows = 500,
        MaxBufferedBytesPerFlow = 16 * 1024,
        MaxBufferedBytesTotal = 256 * 1024,
        MaxBufferedSegmentsPerDirection = 8,
    };

    [Fact]
    public void SequenceJumpsNeverExceedTheBoundsNorGrowMemoryAndLaterLoginsAreFound()
    {
        var rng = new Random(4242);
        var h = new MailHarness(limits: Tight);
        int port = 1024;
        long afterWarmUp = 0;
        const int Rounds = 40;
        var payload = new byte[1400];
        for (int round = 0; round < Rounds; round++)
        {
            for (int conn = 0; conn < 100; conn++)
            {
                var client = Endpoints.At($"10.9.{round % 200}.{conn + 1}", (ushort)(port = port >= 65_000 ? 1024 : port + 1));
                var server = conn % 2 == 0 ? Endpoints.ImapServer : Endpoints.Pop3Server;
                var c = h.Connect(client, server, clientIsn: (uint)rng.NextInt64(0, 1L << 32), serverIsn: (uint)rng.NextInt64(0, 1L << 32));
                c.ServerSends(server.Port == 143 ? "* OK ready\r\n" : "+OK ready\r\n");
                for (int s = 0; s < 40; s++)
                {
                    bool fromClient = rng.Next(2) == 0;
                    uint baseSeq = fromClient ? c.ClientNext : c.ServerNext;
                    uint seq = rng.Next(4) switch
                    {
                        0 => baseSeq + (uint)rng.Next(1, 200_000),        // ahead: a hole to buffer behind
                        1 => baseSeq - (uint)rng.Next(1, 200_000),        // behind: old data, maybe overlapping
                        2 => (uint)rng.NextInt64(0, 1L << 32),            // anywhere
                        _ => baseSeq + 0x7FFF_0000u,                      // half the sequence space away
                    };
                    rng.NextBytes(payload);
                    var flags = TcpFlags.Ack | (TcpFlags)(rng.Next(20) == 0 ? (int)TcpFlags.Fin : 0) | (rng.Next(60) == 0 ? TcpFlags.Rst : 0);
                    uint ack = rng.Next(4) == 0
                        ? (uint)rng.NextInt64(0, 1L << 32)                // acknowledging bytes never seen
                        : fromClient ? c.ServerNext : c.ClientNext;       // or what the peer really sent
                    var (from, to) = fromClient ? (client, server) : (server, client);
                    h.Reassembler.OnSegment(new TcpSegment(from, to, seq, ack, flags, payload.AsSpan(0, rng.Next(0, payload.Length + 1)), h.Clock.Tick()));
                    Assert.True(h.Counters.BytesBufferedNow <= Tight.MaxBufferedBytesTotal,
                        $"round {round}: {h.Counters.BytesBufferedNow} bytes buffered, limit {Tight.MaxBufferedBytesTotal}");
                    Assert.True(h.Reassembler.FlowCount <= Tight.MaxFlows);
                }
            }

            // After the chaos, a well-behaved client logs in on a new connection.
            var ok = h.Connect(Endpoints.At("10.10.0.1", (ushort)(40_000 + round)), Endpoints.ImapServer);
            ok.ServerSends("* OK IMAP ready\r\n");
            ok.ClientSends($"v LOGIN valid{round} pw\r\n");
            ok.ServerSends("v OK in\r\n");
            ok.FinBoth();
            var login = Assert.Single(h.Sink.Auths, a => a.Username == $"valid{round}");
            Assert.Equal(AuthOutcome.Success, login.Outcome);

            h.Sink.Events.Clear(); // events are the output, not the sensor's state
            if (round == 9) afterWarmUp = RetainedBytes();
        }
        long atEnd = RetainedBytes();

        Assert.True(h.Counters.GlobalBufferLimitHits + h.Counters.FlowBufferLimitHits > 100, "the chaos never reached a buffer bound");
        Assert.True(h.Counters.FlowsEvictedAtLimit > 0, "the chaos never reached the flow bound");
        Assert.True(h.Counters.Gaps > 1000);
        // Thirty more rounds of the same chaos retain no more than a little noise.
        Assert.True(atEnd - afterWarmUp < 2 * 1024 * 1024, $"retained memory grew by {(atEnd - afterWarmUp) / 1024} KiB from round 10 to round {Rounds}");
        h.Finish();
        Assert.Equal(0, h.Counters.BytesBufferedNow);
        Assert.Equal(0, h.Reassembler.FlowCount);
    }

    private static long RetainedBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
