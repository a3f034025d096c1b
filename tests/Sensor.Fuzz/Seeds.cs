using System.Buffers.Binary;
using System.Text;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Reassembly;
using Sensor.Fuzz.Targets;

namespace Sensor.Fuzz;

/// <summary>
/// Writes the committed seed corpora (tests/Sensor.Fuzz/seeds/mail and seeds/sasl):
/// `mail` seeds from the connections of some of the project's own captures, as the reassembler
/// orders their bytes, plus a few hand-made ones for what captures do not show (lost segments,
/// tight bounds, sequence wrap, a mid-stream start, RST and idle endings); `sasl` seeds, one or two
/// realistic exchanges per mechanism. The `pcap` target's seeds are the bundled captures themselves
/// (scripts/fuzz.sh copies them). Output is the same on every run.
/// </summary>
internal static class Seeds
{
    /// <summary>Bytes per capture-derived seed at most: AFL mutates small inputs faster.</summary>
    public const int MaxSeedBytes = 2048;

    private static readonly string[] Captures =
    [
        "dovecot/imap-login-literal.pcap", "dovecot/imap-login-quoted-escapes.pcap", "dovecot/imap-authenticate-plain.pcap",
        "dovecot/imap-authenticate-digest-md5.pcap", "dovecot/imap-cram-md5-imaplib.pcap", "dovecot/imap-curl-auth-login.pcap",
        "dovecot/imap-starttls.pcap", "dovecot/imap-append-fetch.pcap", "dovecot/imap-login-fail-then-success.pcap",
        "dovecot/pop3-user-pass.pcap", "dovecot/pop3-apop.pcap", "dovecot/pop3-curl-auth-plain.pcap",
        "dovecot/pop3-curl-auth-cram-md5.pcap", "dovecot/pop3-stls.pcap", "dovecot/pop3-retr.pcap",
        "dovecot/pop3-pipelined.pcap", "dovecot/pop3-port-2110.pcap",
        "crafted/imap-ntlm.pcap", "crafted/imap-scram-sha-256.pcap", "crafted/imap-xoauth2.pcap",
        "crafted/imap-oauthbearer.pcap", "crafted/imap-literal-plus.pcap", "crafted/imap-pipelined.pcap",
        "crafted/imap-authenticate-cancelled.pcap", "crafted/pop3-auth-login.pcap", "crafted/pop3-retr-with-login-lines.pcap",
        "crafted/garbage-on-port-143.pcap", "crafted/imap-midstream-unusual-port.pcap",
        "smtp/smtp-swaks-auth-plain.pcap", "smtp/smtp-curl-auth-login.pcap", "smtp/smtp-curl-oauthbearer.pcap",
        "smtp/smtp-msmtp-scram-sha-256.pcap", "smtp/smtp-socket-traps.pcap", "smtp/smtp-socket-pipelined.pcap",
        "smtp/smtp-socket-cancel.pcap", "smtp/smtp-starttls-454-then-plain.pcap",
    ];

    public static int Write(string outDir, string pcapsDir)
    {
        var mail = Path.Combine(outDir, "mail");
        var sasl = Path.Combine(outDir, "sasl");
        Directory.CreateDirectory(mail);
        Directory.CreateDirectory(sasl);
        foreach (var capture in Captures)
        {
            var seeds = FromCapture(Path.Combine(pcapsDir, capture));
            for (int i = 0; i < seeds.Count; i++)
                File.WriteAllBytes(Path.Combine(mail, Path.GetFileNameWithoutExtension(capture) + (i == 0 ? "" : $"-{i + 1}")), seeds[i]);
        }
        foreach (var (name, bytes) in HandMadeMail()) File.WriteAllBytes(Path.Combine(mail, name), bytes);
        foreach (var (name, bytes) in HandMadeSasl()) File.WriteAllBytes(Path.Combine(sasl, name), bytes);
        Console.Error.WriteLine($"seeds written to {mail} and {sasl}");
        return 0;
    }

    private static List<byte[]> FromCapture(string capture)
    {
        var factory = new RecordingFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyLimits(), new SensorCounters(), [143, 110]);
        var result = CaptureFileSource.Read(capture, (link, frame, wire, ts) =>
        {
            if (FrameDecoder.Decode(link, frame, ts, out var segment, out _) == DecodeResult.Tcp) reassembler.OnSegment(segment);
        }, FrameDecoder.IsSupported);
        reassembler.CloseAll();
        if (!result.Read) throw new InvalidDataException($"{capture}: {result.Error}");
        return factory.Flows.Where(f => f.Chunks.Count > 0).Select(f => f.ToSeed()).ToList();
    }

    private sealed class RecordingFactory : IStreamConsumerFactory
    {
        public List<Recording> Flows { get; } = new();

        public IStreamConsumer Create(TcpFlow flow)
        {
            var r = new Recording(flow);
            Flows.Add(r);
            return r;
        }
    }

    private sealed class Recording(TcpFlow flow) : IStreamConsumer
    {
        public List<(bool FromServer, byte[] Data)> Chunks { get; } = new();

        public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
        {
            Chunks.Add((direction == StreamDirection.ServerToClient, data.ToArray()));
            return true;
        }

        public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
        {
        }

        public void OnClose(FlowCloseReason reason, long timestampNs)
        {
        }

        public byte[] ToSeed()
        {
            int port = Array.IndexOf(MailTarget.ServerPorts, flow.Server.Port);
            var seed = new MailSeed(MailTarget.SetUp(port < 0 ? 2 : port));
            foreach (var (fromServer, data) in Chunks)
            {
                int room = MaxSeedBytes - seed.Length - 3;
                if (room <= 0) break;
                seed.Add(fromServer, data.AsSpan(0, Math.Min(data.Length, room)));
            }
            return seed.ToArray();
        }
    }

    private sealed class MailSeed
    {
        private readonly MemoryStream _bytes = new();

        public MailSeed(byte setUp) => _bytes.WriteByte(setUp);

        public int Length => (int)_bytes.Length;
        public MailSeed Client(string text, bool lost = false) => Add(false, Encoding.UTF8.GetBytes(text), lost);
        public MailSeed Server(string text, bool lost = false) => Add(true, Encoding.UTF8.GetBytes(text), lost);

        public MailSeed Add(bool fromServer, ReadOnlySpan<byte> data, bool lost = false)
        {
            ChunkReader.Write(_bytes, fromServer, lost, data);
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();
    }

    private static IEnumerable<(string, byte[])> HandMadeMail()
    {
        const int Imap = 0, Pop3 = 1, Unusual = 2;
        yield return ("hand-imap-login-lost-client-segment", new MailSeed(MailTarget.SetUp(Imap))
            .Server("* OK IMAP4rev1 ready\r\n").Client("a1 CAPABILITY\r\n", lost: true).Client("a2 LOGIN alice secret\r\n")
            .Server("a1 OK done\r\na2 OK logged in\r\n").ToArray());
        yield return ("hand-imap-login-lost-answer", new MailSeed(MailTarget.SetUp(Imap, ending: 1))
            .Server("* OK ready\r\n").Client("a1 LOGIN alice secret\r\n").Server("a1 OK logged in\r\n", lost: true)
            .Client("a2 LOGOUT\r\n").Server("* BYE\r\na2 OK\r\n").ToArray());
        yield return ("hand-imap-literal-tight", new MailSeed(MailTarget.SetUp(Imap, tight: true))
            .Server("* OK ready\r\n").Client("a1 LOGIN {5}\r\n").Server("+ go\r\n").Client("alice {300}\r\n")
            .Server("+ go\r\n").Add(false, Encoding.ASCII.GetBytes(new string('x', 300) + "\r\n")).Server("a1 NO too long\r\n").ToArray());
        yield return ("hand-imap-wrap-midstream", new MailSeed(MailTarget.SetUp(Unusual, midStream: true, wrap: true))
            .Client("a7 AUTHENTICATE PLAIN\r\n").Server("+ \r\n").Client("AGFsaWNlAHNlY3JldA==\r\n").Server("a7 OK done\r\n").ToArray());
        yield return ("hand-imap-idle-end", new MailSeed(MailTarget.SetUp(Imap, ending: 3))
            .Server("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n").Client("a1 LOGIN \"al\\\"ice\" \"pw\"\r\n").ToArray());
        yield return ("hand-pop3-user-pass-gap", new MailSeed(MailTarget.SetUp(Pop3, ending: 2))
            .Server("+OK POP3 ready\r\n").Client("CAPA\r\n").Server("+OK\r\nUSER\r\nSTLS\r\n.\r\n", lost: true)
            .Client("USER alice\r\n").Server("+OK\r\n").Client("PASS secret\r\n").Server("+OK logged in\r\n").ToArray());
        yield return ("hand-pop3-pipelined-tight", new MailSeed(MailTarget.SetUp(Pop3, tight: true))
            .Server("+OK ready\r\n").Client("USER a\r\nPASS b\r\nUSER c\r\nPASS d\r\nUSER e\r\nPASS f\r\n")
            .Server("+OK\r\n-ERR\r\n+OK\r\n-ERR\r\n").ToArray());
        const int Submission = 4;
        yield return ("hand-smtp-lost-data-command", new MailSeed(MailTarget.SetUp(Submission))
            .Server("220 mx ESMTP\r\n").Client("EHLO x\r\n").Server("250-mx\r\n250 AUTH PLAIN\r\n")
            .Client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", lost: true).Server("250 ok\r\n250 ok\r\n354 go\r\n")
            .Client("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n.\r\n").Server("250 queued\r\n").ToArray());
        yield return ("hand-smtp-bdat-tight", new MailSeed(MailTarget.SetUp(Submission, tight: true))
            .Server("220 mx ESMTP\r\n").Client("EHLO x\r\nAUTH LOGIN YWxpY2U=\r\n").Server("250 mx\r\n334 UGFzc3dvcmQ6\r\n")
            .Client("c2VjcmV0\r\n").Server("235 ok\r\n").Client("BDAT 12\r\nAUTH PLAIN A").Client("BDAT 3 LAST\r\nB\r\n")
            .Server("250 ok\r\n250 ok\r\n").ToArray());
        yield return ("hand-smtp-midstream-unusual-port", new MailSeed(MailTarget.SetUp(5, midStream: true, ending: 2))
            .Client("AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHQBAQ==\r\n").Server("235 2.7.0 ok\r\n").ToArray());
        yield return ("hand-pop3-unusual-port-apop", new MailSeed(MailTarget.SetUp(3))
            .Server("+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n").Client("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n")
            .Server("+OK maildrop has 1 message\r\n").ToArray());
    }

    private static IEnumerable<(string, byte[])> HandMadeSasl()
    {
        byte Mechanism(string name) => (byte)Array.IndexOf(SaslTarget.Mechanisms, name);
        byte[] Exchange(string mechanism, params (bool FromServer, bool Raw, byte[] Data)[] lines)
        {
            using var s = new MemoryStream();
            s.WriteByte(Mechanism(mechanism));
            foreach (var (fromServer, raw, data) in lines) ChunkReader.Write(s, fromServer, raw, data);
            return s.ToArray();
        }
        (bool, bool, byte[]) C(string line) => (false, false, Encoding.UTF8.GetBytes(line));
        (bool, bool, byte[]) S(string line) => (true, false, Encoding.UTF8.GetBytes(line));
        (bool, bool, byte[]) CRaw(byte[] message) => (false, true, message);
        (bool, bool, byte[]) SRaw(byte[] message) => (true, true, message);
        byte[] B(string s) => Encoding.UTF8.GetBytes(s);

        yield return ("plain", Exchange("PLAIN", C("AGFsaWNlAHNlY3JldA==")));
        yield return ("plain-authzid-raw", Exchange("PLAIN", S(""), CRaw(B("admin\0alice\0secret"))));
        yield return ("login", Exchange("LOGIN", S("VXNlcm5hbWU6"), C("YWxpY2U="), S("UGFzc3dvcmQ6"), C("c2VjcmV0")));
        yield return ("login-cancelled", Exchange("LOGIN", S("VXNlcm5hbWU6"), C("YWxpY2U="), C("*")));
        yield return ("xoauth2", Exchange("XOAUTH2", CRaw(B("user=alice@example.com\u0001auth=Bearer ya29.token\u0001\u0001"))));
        yield return ("oauthbearer", Exchange("OAUTHBEARER", CRaw(B("n,a=al=2Cice,\u0001host=mail.example.com\u0001port=143\u0001auth=Bearer tok\u0001\u0001"))));
        yield return ("cram-md5", Exchange("CRAM-MD5", SRaw(B("<1896.697170952@postoffice.example.net>")),
            CRaw(B("alice b913a602c7eda7a495b4e6e7334d3890"))));
        yield return ("digest-md5", Exchange("DIGEST-MD5",
            SRaw(B("realm=\"example\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,charset=utf-8")),
            CRaw(B("charset=utf-8,username=\"chris\\\"x\",realm=\"example\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/example\",response=d388dad90d4bbd760a152321f2143af7,qop=auth")),
            SRaw(B("rspauth=ea40f60335c427b5527b84dbabcdfffd")), C("=")));
        yield return ("ntlm", Exchange("NTLM", CRaw(NtlmNegotiate()), SRaw(NtlmChallenge()), CRaw(NtlmAuthenticate("EXAMPLE", "alice", unicode: true))));
        yield return ("ntlm-oem", Exchange("NTLM", CRaw(NtlmAuthenticate("DOM", "bob", unicode: false))));
        yield return ("scram-sha-1", Exchange("SCRAM-SHA-1", CRaw(B("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")),
            SRaw(B("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")),
            CRaw(B("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))));
        yield return ("scram-sha-256", Exchange("SCRAM-SHA-256", CRaw(B("n,a=ad=3Dmin,n=us=2Cer,r=rOprNGfwEbeRWgbNEkqO")),
            SRaw(B("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
            CRaw(B("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))));
        yield return ("external", Exchange("EXTERNAL", C("=")));
        yield return ("external-authzid", Exchange("EXTERNAL", CRaw(B("alice"))));
        yield return ("unknown", Exchange("X-UNKNOWN-MECH", C("Zm9vYmFy"), S("YmF6"), C("  cXV4  ")));
    }

    private static byte[] NtlmNegotiate()
    {
        var m = new byte[32];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), 0xE2088297);
        return m;
    }

    private static byte[] NtlmChallenge()
    {
        var m = new byte[48];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), 0xE2898215);
        new byte[] { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef }.CopyTo(m.AsSpan(24));
        return m;
    }

    /// <summary>An AUTHENTICATE_MESSAGE ([MS-NLMP] §2.2.1.3) with domain, user and a 24-byte NT response.</summary>
    private static byte[] NtlmAuthenticate(string domain, string user, bool unicode)
    {
        var enc = unicode ? Encoding.Unicode : Encoding.Latin1;
        byte[] dom = enc.GetBytes(domain), usr = enc.GetBytes(user), nt = Enumerable.Range(0, 24).Select(i => (byte)(i * 7)).ToArray();
        var m = new byte[64 + dom.Length + usr.Length + nt.Length];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 3);
        int at = 64;
        void Field(int header, byte[] value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(header), (ushort)value.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(header + 2), (ushort)value.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(header + 4), (uint)at);
            value.CopyTo(m, at);
            at += value.Length;
        }
        Field(28, dom);
        Field(36, usr);
        Field(20, nt);
        Field(12, []);
        Field(44, []);
        Field(52, []);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(60), unicode ? 0xE2888215u : 0xE2888216u);
        return m;
    }
}
