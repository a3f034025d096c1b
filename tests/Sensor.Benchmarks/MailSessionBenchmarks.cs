using System.Text;
using BenchmarkDotNet.Attributes;
using PacketDotNet;
using Sensor.Benchmarks.Support;
using Sensor.Capture;
using System.Buffers.Binary;
using Sensor.Core.Detection;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

public enum MailProtocolKind { Imap, Pop3 }

/// <summary>
/// (d) IMAP and POP3 sessions through the whole pipeline in steady state: one long-lived connection,
/// logged in during GlobalSetup, then every invocation plays 4 more message downloads on it
/// (IMAP `FETCH n BODY[]` answered with a literal; POP3 `RETR n` answered with a dot-stuffed
/// multi-line body), segments of 1448 bytes, the client acknowledging every second one. Bodies
/// carry decoy lines (`a1 LOGIN victim secret`, `USER victim`, `PASS x`, ...). Reported per message.
/// The frames are built once; each round rewrites their sequence/ack numbers in place (a few ns per
/// frame) so the connection moves on. Allocated per message should not grow with BodyKib: the body
/// bytes themselves allocate nothing.
/// <para><c>DownloadNoDecoder</c> plays the same frames into the same reassembler and sessions
/// (<see cref="TcpReassembler"/> with <see cref="MailConsumerFactory"/>, as PacketPipeline builds
/// them) with a fixed-offset header read of its own instead of the pipeline's decoder: the
/// difference between the two is what decoding costs.</para>
/// </summary>
[MemoryDiagnoser]
public class MailSessionBenchmarks
{
    public const int MessagesPerInvoke = 4;

    [Params(MailProtocolKind.Imap, MailProtocolKind.Pop3)]
    public MailProtocolKind Protocol;

    [Params(16, 256)]
    public int BodyKib;

    private PacketPipeline _pipeline = null!;
    private TcpReassembler _reassembler = null!;
    private TcpConversation.Replay _replay = null!;

    [GlobalSetup(Target = nameof(Download))]
    public void SetupPipeline()
    {
        _pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), NullSink.Instance);
        Setup(new PipelineSink(_pipeline), _pipeline.Counters);
    }

    [GlobalSetup(Target = nameof(DownloadNoDecoder))]
    public void SetupNoDecoder()
    {
        var options = new AnalysisOptions();
        var counters = new SensorCounters();
        var context = new AnalysisContext(options, NullSink.Instance, counters);
        _reassembler = new TcpReassembler(new MailConsumerFactory(context), new ReassemblyLimits(), counters,
            options.ServerPorts);
        Setup(new ReassemblerSink(_reassembler), counters);
    }

    private void Setup<TSink>(TSink sink, SensorCounters c) where TSink : TcpConversation.IFrameSink
    {
        var conv = new TcpConversation(Protocol == MailProtocolKind.Imap ? (ushort)143 : (ushort)110);
        conv.Handshake();
        byte[] body = Body(BodyKib * 1024);
        if (Protocol == MailProtocolKind.Imap)
        {
            conv.Server("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n"u8);
            conv.Client("a1 LOGIN alice \"s3cret pass\"\r\n"u8);
            conv.Server("a1 OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND UIDPLUS] Logged in\r\n"u8);
            conv.Client("a2 SELECT INBOX\r\n"u8);
            conv.Server("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 1000 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1735812000] UIDs valid\r\na2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"u8);
        }
        else
        {
            conv.Server("+OK Dovecot ready. <1896.697170952@mail.example.net>\r\n"u8);
            conv.Client("USER alice\r\n"u8);
            conv.Server("+OK\r\n"u8);
            conv.Client("PASS s3cret pass\r\n"u8);
            conv.Server("+OK Logged in.\r\n"u8);
            conv.Client("STAT\r\n"u8);
            conv.Server("+OK 1000 16384000\r\n"u8);
        }
        var setup = conv.Frames.ToArray();

        conv.Mark();
        for (int i = 0; i < MessagesPerInvoke; i++)
        {
            if (Protocol == MailProtocolKind.Imap)
            {
                string tag = "f" + i;
                conv.Client(Encoding.ASCII.GetBytes($"{tag} FETCH {i + 1} BODY[]\r\n"));
                var response = new List<byte>();
                response.AddRange(Encoding.ASCII.GetBytes($"* {i + 1} FETCH (BODY[] {{{body.Length}}}\r\n"));
                response.AddRange(body);
                response.AddRange(Encoding.ASCII.GetBytes($")\r\n{tag} OK Fetch completed (0.002 + 0.000 secs).\r\n"));
                conv.Server(response.ToArray());
            }
            else
            {
                conv.Client(Encoding.ASCII.GetBytes($"RETR {i + 1}\r\n"));
                var response = new List<byte>();
                response.AddRange(Encoding.ASCII.GetBytes($"+OK {body.Length} octets\r\n"));
                response.AddRange(DotStuff(body));
                response.AddRange(".\r\n"u8.ToArray());
                conv.Server(response.ToArray());
            }
        }
        _replay = conv.Recorded();
        conv.StartReplay(_replay);

        foreach (var f in setup) sink.OnFrame(f.Data, f.TimeFromMark);
        // Two rounds before measuring: the first plays the frames as built, the second rewritten.
        _replay.PlayRound(sink);
        _replay.PlayRound(sink);
        bool imap = Protocol == MailProtocolKind.Imap;
        if (c.AuthEvents != 1 || c.Gaps != 0 || c.BytesDuplicate != 0 || c.SegmentsOutOfOrder != 0 || c.PacketsMalformed != 0
            || c.MalformedLines != 0 || c.FlowsCreated != 1 || c.FlowsClosed != 0 || (imap ? c.FlowsImap : c.FlowsPop3) != 1
            || (imap && c.LiteralBytesSkipped != 2L * MessagesPerInvoke * body.Length))
            throw new InvalidOperationException(
                $"steady-state check failed: auth {c.AuthEvents}, gaps {c.Gaps}, dup {c.BytesDuplicate}, ooo {c.SegmentsOutOfOrder}, " +
                $"malformed packets {c.PacketsMalformed}, malformed lines {c.MalformedLines}, flows {c.FlowsCreated}/{c.FlowsClosed}, " +
                $"imap {c.FlowsImap}, pop3 {c.FlowsPop3}, literal bytes {c.LiteralBytesSkipped}");
        Console.WriteLine($"// {Protocol} {BodyKib} KiB: {_replay.FrameCount / MessagesPerInvoke} frames and " +
                          $"{_replay.PayloadBytes / MessagesPerInvoke} payload bytes per message");
    }

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke, Description = "FETCH/RETR through PacketPipeline, per message")]
    public void Download() => _replay.PlayRound(new PipelineSink(_pipeline));

    [Benchmark(OperationsPerInvoke = MessagesPerInvoke, Description = "the same, reassembler + sessions only (no decoder), per message")]
    public void DownloadNoDecoder() => _replay.PlayRound(new ReassemblerSink(_reassembler));

    private readonly struct PipelineSink(PacketPipeline pipeline) : TcpConversation.IFrameSink
    {
        public void OnFrame(byte[] frame, long timestampNs) =>
            pipeline.OnFrame(LinkLayers.Ethernet, frame, frame.Length, timestampNs);
    }

    /// <summary>Reads the fixed layout TcpConversation writes (Ethernet, 20-byte IPv4, 32-byte TCP) straight into a segment.</summary>
    private readonly struct ReassemblerSink(TcpReassembler reassembler) : TcpConversation.IFrameSink
    {
        public void OnFrame(byte[] frame, long timestampNs)
        {
            var f = frame.AsSpan();
            var segment = new TcpSegment(
                new IpEndpoint(IpEndpoint.FromIPv4(f[26..30]), BinaryPrimitives.ReadUInt16BigEndian(f[34..])),
                new IpEndpoint(IpEndpoint.FromIPv4(f[30..34]), BinaryPrimitives.ReadUInt16BigEndian(f[36..])),
                BinaryPrimitives.ReadUInt32BigEndian(f[38..]), BinaryPrimitives.ReadUInt32BigEndian(f[42..]),
                (TcpFlags)(f[47] & 0x3F), f[66..], timestampNs);
            reassembler.OnSegment(segment);
        }
    }

    /// <summary>A message of exactly <paramref name="size"/> bytes: headers, then text lines with decoys.</summary>
    private static byte[] Body(int size)
    {
        var rng = new Random(size);
        string[] decoys =
        [
            "a1 LOGIN victim secret", "USER victim", "PASS hunter2", "AUTH PLAIN AHZpY3RpbQBzZWNyZXQ=", "APOP victim 0123456789abcdef",
            "a3 STARTTLS", "STLS", ".", "..", ".hidden line", "+OK", "-ERR", "a1 OK LOGIN completed", "* 2 FETCH (BODY[] {12}",
        ];
        var sb = new StringBuilder(size);
        sb.Append("From: Bob <bob@example.net>\r\nTo: Alice <alice@example.net>\r\nSubject: quarterly numbers\r\n")
          .Append("Message-ID: <20250102100000.1@example.net>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        const string words = "the quick brown fox jumps over lazy dog mail server login report numbers quarter ";
        while (sb.Length < size - 80)
        {
            if (rng.Next(12) == 0) sb.Append(decoys[rng.Next(decoys.Length)]);
            else
            {
                int len = rng.Next(40, 77);
                for (int i = 0; i < len; i++) sb.Append(words[(i * 7 + rng.Next(words.Length)) % words.Length]);
            }
            sb.Append("\r\n");
        }
        sb.Append('z', size - 2 - sb.Length).Append("\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>RFC 1939 §3: a line starting with "." gets one more.</summary>
    private static byte[] DotStuff(byte[] body)
    {
        var o = new List<byte>(body.Length + 64);
        bool lineStart = true;
        foreach (byte b in body)
        {
            if (lineStart && b == (byte)'.') o.Add((byte)'.');
            o.Add(b);
            lineStart = b == (byte)'\n';
        }
        return o.ToArray();
    }
}
