namespace Sensor.CaptureGenerator;

/// <summary>
/// An IMAP connection: greeting, optional CAPABILITY, sometimes STARTTLS, one login (LOGIN with
/// atoms, quoted strings or literals; AUTHENTICATE PLAIN with or without SASL-IR, LOGIN, XOAUTH2,
/// CRAM-MD5) with about one failure in five and sometimes a retry that succeeds, then SELECT and a
/// FETCH of a body literal full of decoy command lines, then LOGOUT.
/// </summary>
internal sealed class ImapFlow : Flow
{
    private readonly MailServer _srv;
    private readonly int _tagStyle;
    private int _tagN;

    public ImapFlow(World w, long id, long start, uint clientIp, ushort clientPort, MailServer srv, ushort serverPort, Random rng)
        : base(w, id, start, clientIp, clientPort, srv.Ip, serverPort, rng)
    {
        _srv = srv;
        _tagStyle = Rng.Next(4);
        _tagN = _tagStyle == 1 ? 1 : Rng.Next(0, 2);
    }

    private string Tag()
    {
        int n = _tagN++;
        return _tagStyle switch
        {
            0 => $"a{n}",
            1 => $"A{n:D4}",
            2 => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => $"x{n}",
        };
    }

    private string Caps() => _srv.Style switch
    {
        0 => "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE " + (_srv.LiteralPlus ? "LITERAL+ " : "") + (_srv.OffersStartTls ? "STARTTLS " : "") + "AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=CRAM-MD5",
        1 => "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE " + (_srv.OffersStartTls ? "STARTTLS " : "") + "AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5",
        _ => "IMAP4rev1 " + (_srv.LiteralPlus ? "LITERAL+ " : "") + (_srv.OffersStartTls ? "STARTTLS " : "") + "AUTH=PLAIN",
    };

    private string Greeting() => _srv.Style switch
    {
        0 => $"* OK [CAPABILITY {Caps()}] Dovecot ready.\r\n",
        1 => $"* OK [CAPABILITY {Caps()}] Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.  See COPYING for distribution information.\r\n",
        _ => Rng.Next(2) == 0 ? $"* OK [CAPABILITY {Caps()}] ready\r\n" : $"* OK {_srv.Host} IMAP4rev1 server ready\r\n",
    };

    protected override IEnumerable<Msg> Script()
    {
        var tally = W.Tally;
        yield return S(Greeting());

        if (Rng.Next(100) < 50)
        {
            string t = Tag();
            yield return C($"{t} CAPABILITY\r\n");
            yield return S($"* CAPABILITY {Caps()}\r\n{t} OK Pre-login capabilities listed, post-login capabilities have more.\r\n");
        }

        if (Rng.Next(100) < 10)
        {
            string t = Tag();
            yield return C($"{t} STARTTLS\r\n");
            bool ok = _srv.OffersStartTls && Rng.Next(100) < 98;
            tally.StartTls(ok);
            if (ok)
            {
                yield return S($"{t} OK Begin TLS negotiation now.\r\n");
                foreach (var m in TlsRecords.AfterStartTls(W, Rng)) yield return m;
                ClientClosesFirst = Rng.Next(2) == 0;
                yield break;
            }
            yield return S(Rng.Next(2) == 0 ? $"{t} BAD STARTTLS not supported\r\n" : $"{t} NO [UNAVAILABLE] TLS is not configured\r\n");
        }

        bool loggedIn = false;
        bool fail = Rng.Next(100) < 20;
        while (true)
        {
            foreach (var m in Login(!fail)) yield return m;
            if (!fail) { loggedIn = true; break; }
            if (Rng.Next(100) >= 55) break; // give up after the failure
            fail = false;                   // the retry succeeds
        }

        if (loggedIn)
        {
            string t = Tag();
            int exists = Rng.Next(1, 500);
            yield return C($"{t} SELECT INBOX\r\n");
            yield return S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n" +
                           "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n" +
                           $"* {exists} EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen.\r\n" +
                           $"* OK [UIDVALIDITY {Rng.Next(1_600_000_000, 1_735_000_000)}] UIDs valid\r\n* OK [UIDNEXT {exists + 1}] Predicted next UID\r\n" +
                           $"{t} OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n");
            if (W.Bodies.Length > 0)
            {
                var body = W.Bodies[Rng.Next(W.Bodies.Length)];
                int n = Rng.Next(1, exists + 1);
                t = Tag();
                string header;
                if (Rng.Next(2) == 0)
                {
                    yield return C($"{t} FETCH {n} (UID BODY.PEEK[])\r\n");
                    header = $"* {n} FETCH (UID {n} BODY[] {{{body.Length}}}\r\n";
                }
                else
                {
                    yield return C($"{t} UID FETCH {n} (FLAGS BODY[])\r\n");
                    header = $"* {n} FETCH (UID {n} FLAGS (\\Seen) BODY[] {{{body.Length}}}\r\n";
                }
                yield return new Msg(false, World.Ascii(header), body, World.Ascii($")\r\n{t} OK Fetch completed (0.002 + 0.000 secs).\r\n"));
            }
        }

        if (loggedIn || Rng.Next(100) < 80)
        {
            string t = Tag();
            yield return C($"{t} LOGOUT\r\n");
            yield return S($"* BYE Logging out\r\n{t} OK Logout completed.\r\n");
            ClientClosesFirst = Rng.Next(100) < 30;
        }
        else
        {
            ClientClosesFirst = true;
        }
    }

    /// <summary>One login attempt by a random mechanism; counts it.</summary>
    private IEnumerable<Msg> Login(bool success)
    {
        int pick = Rng.Next(100);
        string user = Content.User(Rng);
        string t = Tag();
        string ok = _srv.Style == 0 ? $"{t} OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH SEARCHRES WITHIN CONTEXT=SEARCH MOVE] Logged in\r\n"
                  : _srv.Style == 1 ? $"{t} OK LOGIN Ok.\r\n" : $"{t} OK LOGIN completed\r\n";
        string no = Rng.Next(3) switch
        {
            0 => $"{t} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
            1 => $"{t} NO Login failed.\r\n",
            _ => $"{t} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n",
        };
        string result = success ? ok : no;
        int failDelay = success ? 0 : Rng.Next(50_000, 1_500_000);

        if (pick < 40)
        {
            // LOGIN (RFC 3501 §6.2.3)
            int form = Rng.Next(100);
            if (form < 40)
            {
                string pass = Content.Password(Rng, atomSafe: true);
                if (!success) pass = Content.Typo(Rng, pass, atomSafe: true);
                yield return C($"{t} LOGIN {user} {pass}\r\n");
            }
            else if (form < 75)
            {
                string pass = Content.Password(Rng, atomSafe: false);
                if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);
                yield return C($"{t} LOGIN {Content.Quoted(user)} {Content.Quoted(pass)}\r\n");
            }
            else
            {
                string pass = Content.Password(Rng, atomSafe: false);
                if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);
                if (_srv.LiteralPlus && form >= 90)
                {
                    // LITERAL+ (RFC 7888): no continuation requests
                    yield return C($"{t} LOGIN {{{user.Length}+}}\r\n{user} {{{pass.Length}+}}\r\n{pass}\r\n");
                }
                else if (Rng.Next(2) == 0)
                {
                    yield return C($"{t} LOGIN {{{user.Length}}}\r\n");
                    yield return S("+ Ready for literal data\r\n");
                    yield return C($"{user} {{{pass.Length}}}\r\n");
                    yield return S("+ Ready for literal data\r\n");
                    yield return C($"{pass}\r\n");
                }
                else
                {
                    yield return C($"{t} LOGIN {Content.Quoted(user)} {{{pass.Length}}}\r\n");
                    yield return S("+ OK\r\n");
                    yield return C($"{pass}\r\n");
                }
            }
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("imap", "LOGIN", success);
        }
        else if (pick < 65)
        {
            // AUTHENTICATE PLAIN (RFC 4616), with SASL-IR (RFC 4959) when the server offers it
            string pass = Content.Password(Rng, atomSafe: false);
            if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);
            string authz = Rng.Next(10) == 0 ? user : "";
            string payload = Content.B64($"{authz}\0{user}\0{pass}");
            if (_srv.Style == 0 && Rng.Next(100) < 75)
            {
                yield return C($"{t} AUTHENTICATE PLAIN {payload}\r\n");
            }
            else
            {
                yield return C($"{t} AUTHENTICATE PLAIN\r\n");
                yield return S("+ \r\n");
                yield return C($"{payload}\r\n");
            }
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("imap", "AUTH=PLAIN", success);
        }
        else if (pick < 80)
        {
            // AUTHENTICATE LOGIN: user name and password in two continuations
            string pass = Content.Password(Rng, atomSafe: false);
            if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);
            yield return C($"{t} AUTHENTICATE LOGIN\r\n");
            yield return S("+ VXNlcm5hbWU6\r\n");
            yield return C($"{Content.B64(user)}\r\n");
            yield return S("+ UGFzc3dvcmQ6\r\n");
            yield return C($"{Content.B64(pass)}\r\n");
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("imap", "AUTH=LOGIN", success);
        }
        else if (pick < 90)
        {
            // XOAUTH2: a bearer token; on failure the server sends an error challenge the client answers empty
            string token = "ya29." + Content.Token(Rng, Rng.Next(60, 140));
            yield return C($"{t} AUTHENTICATE XOAUTH2 {Content.B64($"user={user}\u0001auth=Bearer {token}\u0001\u0001")}\r\n");
            if (success)
            {
                yield return S($"{t} OK Success\r\n");
            }
            else
            {
                yield return S("+ " + Content.B64("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}") + "\r\n");
                yield return C("\r\n");
                yield return S($"{t} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n");
            }
            W.Tally.Auth("imap", "AUTH=XOAUTH2", success);
        }
        else
        {
            // AUTHENTICATE CRAM-MD5 (RFC 2195)
            string pass = Content.Password(Rng, atomSafe: false);
            if (!success) pass = Content.Typo(Rng, pass, atomSafe: false);
            string challenge = $"<{Rng.Next(1000, 99999)}.{Rng.Next(1, int.MaxValue)}@{_srv.Host}>";
            yield return C($"{t} AUTHENTICATE CRAM-MD5\r\n");
            yield return S($"+ {Content.B64(challenge)}\r\n");
            yield return C($"{Content.B64(Content.CramMd5Response(user, pass, challenge))}\r\n");
            yield return Delayed(S(result), failDelay);
            W.Tally.Auth("imap", "AUTH=CRAM-MD5", success);
        }
    }
}
