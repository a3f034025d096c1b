using Sensor.Core.Detection;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Fuzz.Targets;

/// <summary>
/// Target <c>mail</c>: one TCP connection, both directions from one input, through the public
/// analysis path (TcpReassembler, MailConsumerFactory: detection, then the IMAP, POP3 or SMTP session).
/// Nothing here depends on how the sessions work inside.
///
/// Input: a set-up byte, then chunks (<see cref="ChunkReader"/>; the flag bit loses the chunk on
/// the way, so its bytes occupy sequence space but never arrive, and later data makes a gap).
/// Set-up bits 0-1: server port 143 (IMAP), 110 (POP3), 2143 or 1110 (unusual: content decides);
/// bit 7 instead picks by bit 0 an SMTP port: 587 (submission) or 2525 (unusual: content decides);
/// bit 2: no handshake seen (picked up mid-stream); bits 3-4: the end (FIN both ways, client RST,
/// end of input, idle expiry); bit 5: tight bounds (short lines, few pending commands, small
/// reassembly buffers) so that every bound is reachable with small inputs; bit 6: initial sequence
/// numbers just below 2^32, so sequence numbers wrap.
///
/// Checked: no exception; without reveal no secret in any event, and the revealing run gives the
/// same events but for the secret; every event is one line of JSON and text; the counters agree
/// with the events; after the end nothing is held (flows, buffered bytes, partial-line budget);
/// the reassembler hands the consumer exactly the bytes that arrived, in order, with gaps exactly
/// where bytes were lost (while no buffering bound was hit), and closes it once.
/// </summary>
public static class MailTarget
{
    public static readonly ushort[] ServerPorts = [143, 110, 2143, 1110, 587, 2525];

    private static readonly IpEndpoint ClientEndpoint = IpEndpoint.Parse("10.0.0.1", 40000);
    private const long StartNs = 1_700_000_000_000_000_000L;
    private const long StepNs = 1_000_000L;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty) return;
        var redacted = Analyse(input, reveal: false);
        var revealed = Analyse(input, reveal: true);

        EventChecks.NoSecrets(redacted);
        EventChecks.SameEvents(redacted, EventChecks.WithoutSecrets(revealed), "redacting run against revealing run");
        EventChecks.FormatAsOneLine(redacted);
        EventChecks.FormatAsOneLine(revealed);
    }

    /// <summary>Set-up byte values, for writing seeds.</summary>
    public static byte SetUp(int portIndex, bool midStream = false, int ending = 0, bool tight = false, bool wrap = false) =>
        (byte)((portIndex >= 4 ? 0x80 | (portIndex & 1) : portIndex & 3) | (midStream ? 4 : 0) | ((ending & 3) << 3) | (tight ? 0x20 : 0) | (wrap ? 0x40 : 0));

    /// <summary>The events of one analysis of the input (its checks included).</summary>
    public static List<SensorEvent> Analyse(ReadOnlySpan<byte> input, bool reveal)
    {
        if (input.IsEmpty) return [];
        byte setUp = input[0];
        var server = IpEndpoint.Parse("10.0.0.2", ServerPorts[(setUp & 0x80) != 0 ? 4 + (setUp & 1) : setUp & 3]);
        bool midStream = (setUp & 4) != 0;
        int ending = (setUp >> 3) & 3;
        bool tight = (setUp & 0x20) != 0;
        bool wrap = (setUp & 0x40) != 0;

        var options = tight
            ? new AnalysisOptions { RevealSecrets = reveal, MaxLineLength = 256, MaxPartialLineBytes = 384, MaxCredentialLiteral = 64, MaxPendingCommands = 4 }
            : new AnalysisOptions { RevealSecrets = reveal };
        var limits = tight
            ? new ReassemblyLimits { MaxBufferedBytesPerFlow = 1024, MaxBufferedBytesTotal = 1024, MaxBufferedSegmentsPerDirection = 4 }
            : new ReassemblyLimits();
        var events = new EventList();
        var counters = new SensorCounters();
        var context = new AnalysisContext(options, new ServerPostureTracker(events), counters);
        var streams = new StreamRecord(ClientEndpoint,
            () => counters.FlowBufferLimitHits + counters.GlobalBufferLimitHits + counters.SegmentsDroppedAtLimit > 0);
        var reassembler = new TcpReassembler(new CheckingFactory(new MailConsumerFactory(context), streams), limits, counters,
            options.ServerPorts);

        uint clientIsn = wrap ? 0xFFFF_FF00u : 1_000u, serverIsn = wrap ? 0xFFFF_FFF0u : 5_000_000u;
        uint clientNext = clientIsn + 1, serverNext = serverIsn + 1;
        long now = StartNs;
        void Send(bool fromServer, uint seq, uint ack, TcpFlags flags, ReadOnlySpan<byte> payload) =>
            reassembler.OnSegment(new TcpSegment(fromServer ? server : ClientEndpoint, fromServer ? ClientEndpoint : server,
                seq, ack, flags, payload, now += StepNs));

        if (!midStream)
        {
            Send(false, clientIsn, 0, TcpFlags.Syn, default);
            Send(true, serverIsn, clientNext, TcpFlags.Syn | TcpFlags.Ack, default);
            Send(false, clientNext, serverNext, TcpFlags.Ack, default);
        }

        var chunks = new ChunkReader(input[1..]);
        while (chunks.Next(out var chunk))
        {
            ref uint next = ref chunk.FromServer ? ref serverNext : ref clientNext;
            uint peerNext = chunk.FromServer ? clientNext : serverNext;
            bool lost = chunk.Flag && !chunk.Payload.IsEmpty;
            streams.Sent(chunk.FromServer, chunk.Payload, lost); // first: the reassembler delivers during the call
            if (!lost)
                Send(chunk.FromServer, next, peerNext, chunk.Payload.IsEmpty ? TcpFlags.Ack : TcpFlags.Ack | TcpFlags.Psh, chunk.Payload);
            next += (uint)chunk.Payload.Length;
        }

        switch (ending)
        {
            case 0:
                Send(false, clientNext, serverNext, TcpFlags.Fin | TcpFlags.Ack, default);
                Send(true, serverNext, clientNext + 1, TcpFlags.Fin | TcpFlags.Ack, default);
                break;
            case 1:
                Send(false, clientNext, serverNext, TcpFlags.Rst | TcpFlags.Ack, default);
                break;
            case 3:
                reassembler.AdvanceTime(now + (long)limits.IdleTimeout.TotalMicroseconds * 1000 * 2);
                break;
        }
        reassembler.CloseAll();

        InvariantViolation.Check(reassembler.FlowCount == 0, "a flow is still tracked after the end of input");
        InvariantViolation.Check(counters.BytesBufferedNow == 0, $"{counters.BytesBufferedNow} out-of-order bytes still counted as buffered after every flow closed");
        InvariantViolation.Check(context.LineBudget.HeldBytes == 0, $"{context.LineBudget.HeldBytes} bytes of the partial-line budget still taken after every flow closed");
        InvariantViolation.Check(counters.AuthEvents == events.Events.Count(e => e is AuthAttempt),
            $"the auth counter says {counters.AuthEvents}, {events.Events.Count(e => e is AuthAttempt)} auth events were emitted");
        InvariantViolation.Check(counters.StartTlsEvents == events.Events.Count(e => e is StartTlsUpgrade),
            $"the starttls counter says {counters.StartTlsEvents}, {events.Events.Count(e => e is StartTlsUpgrade)} starttls events were emitted");
        streams.CheckDelivered(finBothWays: ending == 0);
        return events.Events;
    }

    /// <summary>What the harness sent each way (and which bytes it lost), and what the consumer was handed.</summary>
    private sealed class StreamRecord(IpEndpoint client, Func<bool> boundHit)
    {
        private sealed class Direction
        {
            public readonly List<byte> Bytes = new();
            public readonly List<bool> Lost = new();
            /// <summary>Where the reassembler's stream starts: 0 after a handshake, else the first byte that arrived.</summary>
            public int Origin = -1;
            public int Position = -1;
        }

        private readonly Direction _client = new(), _server = new();
        public bool Stopped { get; private set; }
        public int Closes { get; private set; }
        public TcpFlow? Flow { get; set; }
        public bool FromHandshake { get; set; }

        public void Sent(bool fromServer, ReadOnlySpan<byte> payload, bool lost)
        {
            var d = fromServer ? _server : _client;
            if (!lost && !payload.IsEmpty && d.Origin < 0) d.Origin = d.Bytes.Count;
            foreach (var b in payload)
            {
                d.Bytes.Add(b);
                d.Lost.Add(lost);
            }
        }

        private Direction Of(StreamDirection direction)
        {
            bool flowClientIsOurClient = Flow!.Client == client;
            return (direction == StreamDirection.ClientToServer) == flowClientIsOurClient ? _client : _server;
        }

        private void Start(Direction d)
        {
            if (d.Position < 0) d.Position = FromHandshake ? 0 : Math.Max(0, d.Origin);
        }

        public void Data(StreamDirection direction, ReadOnlySpan<byte> data)
        {
            InvariantViolation.Check(Closes == 0, "data handed to the consumer after its connection was closed");
            InvariantViolation.Check(!data.IsEmpty, "an empty delivery");
            InvariantViolation.Check(!Stopped, "data handed to a consumer that asked for no more");
            var d = Of(direction);
            Start(d);
            InvariantViolation.Check(d.Position + data.Length <= d.Bytes.Count,
                $"{data.Length} bytes delivered at offset {d.Position} of a stream that carried {d.Bytes.Count}");
            for (int i = 0; i < data.Length; i++)
            {
                int at = d.Position + i;
                InvariantViolation.Check(!d.Lost[at] && d.Bytes[at] == data[i], $"byte {at} delivered is not the byte that arrived there");
            }
            d.Position += data.Length;
        }

        public void Gap(StreamDirection direction, long skipped)
        {
            InvariantViolation.Check(Closes == 0, "a gap reported after the connection was closed");
            InvariantViolation.Check(skipped > 0, $"a gap of {skipped} bytes");
            var d = Of(direction);
            Start(d);
            InvariantViolation.Check(d.Position + skipped <= d.Bytes.Count,
                $"a gap of {skipped} bytes at offset {d.Position} of a stream that carried {d.Bytes.Count}");
            // A buffering bound gives up bytes that did arrive; otherwise only lost bytes make a gap.
            if (!boundHit())
                for (int at = d.Position; at < d.Position + skipped; at++)
                    InvariantViolation.Check(d.Lost[at], $"a gap over byte {at}, which arrived (no bound was hit)");
            d.Position += (int)skipped;
        }

        public void Stop() => Stopped = true;

        public void Close()
        {
            InvariantViolation.Check(Closes == 0, "a connection closed twice");
            Closes++;
        }

        /// <summary>Every byte that arrived was handed over (unless the consumer stopped wanting them or a bound gave some up).</summary>
        public void CheckDelivered(bool finBothWays)
        {
            if (Flow is null) return;
            InvariantViolation.Check(Closes == 1, "a connection was never closed");
            if (Stopped || boundHit()) return;
            foreach (var (d, name) in new[] { (_client, "client"), (_server, "server") })
            {
                int lastArrived = d.Lost.LastIndexOf(false) + 1;
                if (lastArrived == 0) continue;
                if (!FromHandshake && d.Origin < 0) continue;
                int position = Math.Max(d.Position, 0);
                // A FIN tells how long the stream was: a lost tail is reported as a gap then.
                int expected = finBothWays ? d.Bytes.Count : lastArrived;
                InvariantViolation.Check(position >= lastArrived && position <= d.Bytes.Count && (!finBothWays || position == expected),
                    $"the {name} stream was handed over up to offset {position}; {lastArrived} bytes of {d.Bytes.Count} arrived");
            }
        }
    }

    private sealed class CheckingFactory(IStreamConsumerFactory inner, StreamRecord record) : IStreamConsumerFactory
    {
        public IStreamConsumer Create(TcpFlow flow)
        {
            // Packets keep coming every millisecond until the end, so nothing expires and one connection is one flow.
            InvariantViolation.Check(record.Flow is null, "a second flow for one connection");
            record.Flow = flow;
            record.FromHandshake = flow.RolesFromHandshake;
            return new CheckingConsumer(inner.Create(flow), record);
        }
    }

    /// <summary>Checks the reassembler's side of the IStreamConsumer contract, then hands everything on.</summary>
    private sealed class CheckingConsumer(IStreamConsumer inner, StreamRecord record) : IStreamConsumer
    {
        public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
        {
            record.Data(direction, data);
            bool more = inner.OnData(direction, data, timestampNs);
            if (!more) record.Stop();
            return more;
        }

        public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
        {
            record.Gap(direction, skippedBytes);
            inner.OnGap(direction, skippedBytes, timestampNs);
        }

        public void OnClose(FlowCloseReason reason, long timestampNs)
        {
            record.Close();
            inner.OnClose(reason, timestampNs);
        }
    }
}
