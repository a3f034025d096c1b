namespace Sensor.CaptureGenerator;

/// <summary>
/// A POP3 connection: greeting with an APOP timestamp, optional CAPA, sometimes STLS, one login
/// (USER/PASS, sometimes pipelined; APOP; AUTH PLAIN with or without initial response; AUTH LOGIN;
/// AUTH CRAM-MD5) with about one failure in five and sometimes a retry that succeeds, then STAT,
/// LIST and a RETR of a dot-stuffed body full of decoy command lines, then QUIT.
/// </summary>
internal sealed class Pop3Flow : Flow
{
    private readonly MailServer _srv;
    private readonly string _timestamp;

    public Pop3Flow(World w, long id, long start, uint clientIp, ushort clientPort, MailServer srv, ushort serverPort, Random rng)
        : base(w, id, start, clientIp, clientPort, srv.Ip, serverPort, rng)
    {
        _srv = srv;
        _timestamp = $"<{Rng.Next(1000, 99999)}.{Rng.Next(1, int.MaxValue)}@{srv.Host}>";
    }

    protected override IEnumerable<Msg> Script()
    {
        var tally = W.Tally;
        yield return S(_srv.Style switch
        {
            0 => $"+OK Dovecot ready. {_timestamp}\r\n",
            1 => $"+OK Hello there. {_timestamp}\r\n",
            _ => $"+OK POP3 ready {_timestamp}\r\n",
        });

        if (Rng.Next(100) < 50)
        {
            yield return C("CAPA\r\n");
            yield return S("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n" + (_srv.Pipelining ? "PIPELINING\r\n" : "") +
                           "AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n" + (_srv.OffersStartTls ? "STLS\r\n" : "") + ".\r\n");
        }

        if (Rng.Next(100) < 10)
        {
            yield return C("STLS\r\n");
            bool ok = _srv.OffersStartTls && Rng.Next(100) < 98;
            tally.StartTls(ok);
            if (ok)
            {
                yield return S("+OK Begin TLS negotiation now.\r\n");
                foreach (var m in TlsRecords.AfterStartTls(W, Rng)) yield return m;
                ClientClosesFirst = Rng.Next(2) == 0;
                yield break;
            }
            yield return S(Rng.Next(2) == 0 ? "-ERR TLS support isn't enabled.\r\n" : "-ERR Command not supported\r\n");
        }

        bool loggedIn = false;
        bool fail = Rng.Next(100) < 20;
        while (true)
        {
            foreach (var m in Login(!fail)) yield return m;
            if (!fail) { loggedIn = true; break; }
            if (Rng.Next(100) >= 55) break;
            fail = false;
        }

        if (loggedIn)
        {
            int count = Rng.Next(1, 40);
            int bodyIndex = W.Bodies.Length > 0 ? Rng.Next(W.Bodies.Length) : -1;
            int firstSize = bodyIndex >= 0 ? W.Bodies[bodyIndex].Length : Rng.Next(800, 90000);
            var sizes = new int[count];
            long total = 0;
            for (int i = 0; i < count; i++) { sizes[i] = i == 0 ? firstSize : Rng.Next(800, 200000); total += sizes[i]; }

            yield return C("STAT\r\n");
            yield return S($"+OK {count} {total}\r\n");
            yield return C("LIST\r\n");
            var list = new System.Text.StringBuilder($"+OK {count} messages ({total} octets)\r\n");
            for (int i = 0; i < count; i++) list.Append(i + 1).Append(' ').Append(sizes[i]).Append("\r\n");
            list.Append(".\r\n");
            yield return S(list.ToString());
            if (bodyIndex >= 0)
            {
                yield return C("RETR 1\r\n");
                yield return new Msg(false, World.Ascii($"+OK {firstSize} octets\r\n"), W.StuffedBodies[bodyIndex], World.Ascii(".\r\n"));
                if (Rng.Next(100) < 30)
                {
                    yield return C("DELE 1\r\n");
                    yield return S("+OK Marked to be deleted.\r\n");
                }
            }
        }

        if (loggedIn || Rng.Next(100) < 80)
        {
            yield return C("QUIT\r\n");
            yield return S(loggedIn ? "+OK Logging out, messages deleted.\r\n" : "+OK Logging out.\r\n");
            ClientClosesFirst = Rng.Next(100) < 20;
        }
        else
        {
            ClientClosesFirst = true;
        }
    }

    private IEnumerable<Msg> Login(bool success)
    {
        int pick = Rng.Next(100);
        string user = Content.User(Rng);
        string result = success ? (Rng.Next(2) == 0 ? "+OK Logged in.\r\n" : $"+OK Mailbox locked and ready\r\n")
                                : (Rng.Next(2) == 0 ? "-ERR [AUTH] Authentication failed.\r\n" : "-ERR invalid user name or password.\r\n");
        int failDelay = success ? 0 : Rng.Next(50_000, 1_500_000);
        string pass = Content.Password(Rng, atomSafe: false);
        if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);

        if (pick < 45)
        {
            // USER / PASS (RFC 1939 §7)
            if (_srv.Pipelining && Rng.Next(100) < 30)
            {
                yield return C($"USER {user}\r\nPASS {pass}\r\n");
                yield return Delayed(S("+OK\r\n" + result), failDelay);
            }
            else
            {
                yield return C($"USER {user}\r\n");
                yield return S("+OK\r\n");
                yield return C($"PASS {pass}\r\n");
                yield return Delayed(S(result), failDelay);
            }
            W.Tally.Auth("pop3", "USER", success);
        }
        else if (pick < 60)
        {
            // APOP name digest: MD5 over the greeting's timestamp and the secret
            yield return C($"APOP {user} {Content.Md5Hex(_timestamp + pass)}\r\n");
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("pop3", "APOP", success);
        }
        else if (pick < 80)
        {
            // AUTH PLAIN, with the initial response (RFC 5034 §4) or after an empty challenge
            string payload = Content.B64($"\0{user}\0{pass}");
            if (Rng.Next(100) < 60)
            {
                yield return C($"AUTH PLAIN {payload}\r\n");
            }
            else
            {
                yield return C("AUTH PLAIN\r\n");
                yield return S("+ \r\n");
                yield return C($"{payload}\r\n");
            }
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("pop3", "AUTH=PLAIN", success);
        }
        else if (pick < 88)
        {
            yield return C("AUTH LOGIN\r\n");
            yield return S("+ VXNlcm5hbWU6\r\n");
            yield return C($"{Content.B64(user)}\r\n");
            yield return S("+ UGFzc3dvcmQ6\r\n");
            yield return C($"{Content.B64(pass)}\r\n");
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("pop3", "AUTH=LOGIN", success);
        }
        else
        {
            string challenge = $"<{Rng.Next(1000, 99999)}.{Rng.Next(1, int.MaxValue)}@{_srv.Host}>";
            yield return C("AUTH CRAM-MD5\r\n");
            yield return S($"+ {Content.B64(challenge)}\r\n");
            yield return C($"{Content.B64(Content.CramMd5Response(user, pass, challenge))}\r\n");
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("pop3", "AUTH=CRAM-MD5", success);
        }
    }
}
