namespace Sensor.Core.Tests.Reassembly;

/// <summary>Single behaviours of the reassembler, each on a hand-made trace.</summary>
public sealed class TcpReassemblerTests
{
    private static readonly IpEndpoint Client = Endpoints.At("10.0.0.1", 40000);
    private static readonly IpEndpoint Server = Endpoints.At("10.0.0.2", 5555);

    private static RecordingReassembler Established(uint clientIsn = 1000, uint serverIsn = 9000)
    {
        var t = new RecordingReassembler();
        t.Send(Client, Server, clientIsn, TcpFlags.Syn);
        t.Send(Server, Client, serverIsn, TcpFlags.Syn | TcpFlags.Ack, ack: clientIsn + 1);
        t.Send(Client, Server, clientIsn + 1, TcpFlags.Ack, ack: serverIsn + 1);
        return t;
    }

    [Fact]
    public void AckPastTheHoleGivesItUpAtOnce()
    {
        var t = Established();
        var data = RecordingReassembler.Pattern(300);
        t.Send(Client, Server, 1001, TcpFlags.Ack, data.AsSpan(0, 100), ack: 9001);
        t.Send(Client, Server, 1201, TcpFlags.Ack, data.AsSpan(200, 100), ack: 9001);
        Assert.Equal(0, t.Counters.Gaps);

        t.Send(Server, Client, 9001, TcpFlags.Ack, ack: 1301); // the server has everything

        Assert.Equal(1, t.Counters.Gaps);
        TcpReassemblerBoundsTests.AssertPieces(
            [new Piece(data[..100], 0), new Piece(null, 100), new Piece(data[200..], 0)], t.Single().ClientToServer);
    }

    /// <summary>
    /// An ACK equal to the first byte after the hole acknowledges every byte of the hole: they reached
    /// the receiver without passing the sensor. The documented policy gives such a hole up at once.
    /// </summary>
    [Fact]
    public void AckCoveringExactlyTheHoleGivesItUpAtOnce()
    {
        var t = Established();
        var data = RecordingReassembler.Pattern(300);
        t.Send(Client, Server, 1001, TcpFlags.Ack, data.AsSpan(0, 100), ack: 9001);
        t.Send(Client, Server, 1201, TcpFlags.Ack, data.AsSpan(200, 100), ack: 9001);

        t.Send(Server, Client, 9001, TcpFlags.Ack, ack: 1201); // bytes 100..199 acknowledged, never seen

        Assert.Equal(1, t.Counters.Gaps);
        TcpReassemblerBoundsTests.AssertPieces(
            [new Piece(data[..100], 0), new Piece(null, 100), new Piece(data[200..], 0)], t.Single().ClientToServer);
    }

    /// <summary>
    /// Found by fuzzing: a segment exactly 2^31 from the next expected byte made the distance
    /// int.MinValue, whose negation overflowed into a negative slice and an exception out of the
    /// reassembler (one packet ending `sensor read` or `sensor run`). Half the space away is old data.
    /// </summary>
    [Theory]
    [InlineData(1000u)]
    [InlineData(0xFFFF_FFF0u)]
    public void ASegmentExactlyHalfTheSequenceSpaceAwayIsOldData(uint clientIsn)
    {
        var t = Established(clientIsn);
        var data = RecordingReassembler.Pattern(200);
        uint next = clientIsn + 1;
        t.Send(Client, Server, next, TcpFlags.Ack, data.AsSpan(0, 100), ack: 9001);
        t.Send(Client, Server, next + 100 + 0x8000_0000u, TcpFlags.Ack, data.AsSpan(100, 50), ack: 9001);
        Assert.Equal(50, t.Counters.BytesDuplicate);
        t.Send(Client, Server, next + 100, TcpFlags.Ack, data.AsSpan(100, 100), ack: 9001);
        t.Reassembler.CloseAll();

        Assert.Equal(0, t.Counters.Gaps);
        TcpReassemblerBoundsTests.AssertPieces([new Piece(data, 0)], t.Single().ClientToServer);
    }

    [Fact]
    public void AckShortOfTheHoleKeepsWaitingForIt()
    {
        var t = Established();
        var data = RecordingReassembler.Pattern(300);
        t.Send(Client, Server, 1001, TcpFlags.Ack, data.AsSpan(0, 100));
        t.Send(Client, Server, 1201, TcpFlags.Ack, data.AsSpan(200, 100));
        t.Send(Server, Client, 9001, TcpFlags.Ack, ack: 1101);
        t.Send(Client, Server, 1101, TcpFlags.Ack, data.AsSpan(100, 100)); // the retransmission fills it

        Assert.Equal(0, t.Counters.Gaps);
        TcpReassemblerBoundsTests.AssertPieces([new Piece(data, 0)], t.Single().ClientToServer);
    }

    [Fact]
    public void RetransmissionThatDisagreesWithDeliveredBytesIsIgnored()
    {
        var t = Established();
        t.Send(Client, Server, 1001, TcpFlags.Ack, "hello world"u8);
        t.Send(Client, Server, 1001, TcpFlags.Ack, "HELLO WORLD!!"u8);

        Assert.Equal("hello world!!"u8.ToArray(), RecordingConsumer.Bytes(t.Single().ClientToServer));
        Assert.Equal(11, t.Counters.BytesDuplicate);
    }

    [Fact]
    public void ConsumerThatDeclinesPayloadGetsNoMoreDataButStillItsClose()
    {
        var t = Established();
        t.Send(Client, Server, 1001, TcpFlags.Ack, "first"u8);
        t.Single().WantsMore = false;
        t.Send(Client, Server, 1011, TcpFlags.Ack, "buffered"u8); // out of order: waits for 1006..1010
        t.Send(Client, Server, 1006, TcpFlags.Ack, "12345"u8);    // fills the hole: delivered, declined
        t.Send(Client, Server, 1019, TcpFlags.Ack, "later"u8);
        t.Send(Server, Client, 9001, TcpFlags.Ack, "reply"u8);
        t.Send(Client, Server, 1024, TcpFlags.Rst);

        var c = t.Single();
        Assert.Equal("first12345"u8.ToArray(), RecordingConsumer.Bytes(c.ClientToServer));
        Assert.Empty(c.ServerToClient);
        Assert.Equal([FlowCloseReason.Reset], c.Closes);
        Assert.Equal(0, t.Counters.BytesBufferedNow);
        Assert.Equal(0, t.Counters.Gaps);
    }

    [Fact]
    public void StrayAckFinOrRstWithoutAFlowOpensNothing()
    {
        var t = new RecordingReassembler();
        t.Send(Client, Server, 1, TcpFlags.Ack);
        t.Send(Client, Server, 1, TcpFlags.Fin | TcpFlags.Ack);
        t.Send(Client, Server, 1, TcpFlags.Rst, "x"u8);

        Assert.Empty(t.Factory.Created);
        Assert.Equal(0, t.Reassembler.FlowCount);
        Assert.Equal(3, t.Counters.SegmentsWithoutFlow);
    }

    [Fact]
    public void SynAckAloneTellsWhichSideIsTheClient()
    {
        var t = new RecordingReassembler(serverPorts: []);
        // Client port 80 would be taken for the server by the port rules; the SYN-ACK says otherwise.
        var client = Endpoints.At("10.0.0.9", 80);
        var server = Endpoints.At("10.0.0.1", 60000);
        t.Send(server, client, 500, TcpFlags.Syn | TcpFlags.Ack, ack: 101);
        t.Send(client, server, 101, TcpFlags.Ack, "hi"u8, ack: 501);

        var c = t.Single();
        Assert.Equal(client, c.Flow.Client);
        Assert.True(c.Flow.RolesFromHandshake);
        Assert.Equal("hi"u8.ToArray(), RecordingConsumer.Bytes(c.ClientToServer));
    }

    [Fact]
    public void FinFromOneSideOnlyKeepsTheFlowOpen()
    {
        var t = Established();
        t.Send(Client, Server, 1001, TcpFlags.Fin | TcpFlags.Ack, "bye"u8);
        Assert.Equal(1, t.Reassembler.FlowCount);
        Assert.Empty(t.Single().Closes);

        t.Send(Server, Client, 9001, TcpFlags.Fin | TcpFlags.Ack, ack: 1005);
        Assert.Equal(0, t.Reassembler.FlowCount);
        Assert.Equal([FlowCloseReason.Fin], t.Single().Closes);
        Assert.Equal("bye"u8.ToArray(), RecordingConsumer.Bytes(t.Single().ClientToServer));
    }
}
