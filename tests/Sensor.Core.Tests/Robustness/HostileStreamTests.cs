namespace Sensor.Core.Tests.Robustness;

/// <summary>
/// Hostile and broken content on mail connections, through the real reassembler, detector and
/// sessions: every bound holds and is counted, nothing throws, and a valid login afterwards (on the
/// same connection where the protocol allows it, else on a new one) is still reported exactly.
/// </summary>
public sealed class HostileStreamTests
{
    private static readonly IpEndpoint Imap = Endpoints.ImapServer;
    private static readonly IpEndpoint Pop3 = Endpoints.Pop3Server;
    private static int _nextClientPort = 30_000;

    private static IpEndpoint NewClient() => Endpoints.At("10.0.0.1", (ushort)Interlocked.Increment(ref _nextClientPort));

    private static void AssertLogin(MailHarness h, string mechanism, string user, AuthOutcome outcome)
    {
        var auth = Assert.Single(h.Sink.Auths, a => a.Username == user);
        Assert.Equal(mechanism, auth.Mechanism);
        Assert.Equal(outcome, auth.Outcome);
    }

    [Fact]
    public void AnEndlessImapLineIsDroppedAndTheNextCommandOnTheSameConnectionIsParsed()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Imap);
        c.ServerSends("* OK IMAP ready\r\n");
        var chunk = new byte[1400];
        new Random(1).NextBytes(chunk);
        for (int i = 0; i < chunk.Length; i++) if (chunk[i] == (byte)'\n') chunk[i] = (byte)'x';
        for (int i = 0; i < 3_000; i++) c.ClientSends(chunk); // 4.2 MB without a line end
        c.ClientSends("\r\na1 LOGIN alice wonderland\r\n");
        c.ServerSends("a1 OK LOGIN completed\r\n");
        h.Finish();

        Assert.Equal(1, h.Counters.LinesTooLong);
        AssertLogin(h, "LOGIN", "alice", AuthOutcome.Success);
    }

    [Fact]
    public void AnEndlessServerLineDoesNotHideTheTaggedAnswer()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Imap);
        c.ServerSends("* OK IMAP ready\r\n");
        c.ClientSends("a1 LOGIN bob builder\r\n");
        c.ServerSends("* " + new string('A', 100_000) + "\r\n");
        c.ServerSends("a1 NO [AUTHENTICATIONFAILED] nope\r\n");
        h.Finish();

        Assert.True(h.Counters.LinesTooLong >= 1);
        AssertLogin(h, "LOGIN", "bob", AuthOutcome.Failure);
    }

    [Theory]
    [InlineData("{4294967295}")]
    [InlineData("{4294967295+}")]
    [InlineData("{99999999999999999999}")]
    [InlineData("{-1}")]
    public void AHugeOrBogusLiteralNeverBuffersAndALaterConnectionIsAnalysed(string literal)
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Imap);
        c.ServerSends("* OK IMAP ready\r\n");
        c.ClientSends($"a1 LOGIN {literal}\r\n");
        c.ServerSends("+ go ahead\r\n");
        var junk = new byte[1400];
        for (int i = 0; i < 2_000; i++) c.ClientSends(junk); // 2.8 MB of "literal" that never ends
        c.ClientResets();

        var d = h.Connect(NewClient(), Imap);
        d.ServerSends("* OK IMAP ready\r\n");
        d.ClientSends("b1 LOGIN carol secret\r\n");
        d.ServerSends("b1 OK done\r\n");
        h.Finish();

        Assert.Equal(0, h.Counters.BytesBufferedNow);
        AssertLogin(h, "LOGIN", "carol", AuthOutcome.Success);
        // Whatever the first connection produced, it never claims a credential it could not have read.
        Assert.DoesNotContain(h.Sink.Auths, a => a.Username is { Length: > 4096 });
    }

    [Fact]
    public void ThousandsOfPipelinedCommandsWithoutAnswersStayBoundedAndCounted()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Imap);
        c.ServerSends("* OK IMAP ready\r\n");
        // A guessing script that never waits for answers: only the last MaxPendingCommands logins are
        // held; each one pushed out is reported with outcome unknown rather than kept.
        var burst = new StringBuilder();
        for (int i = 0; i < 10_000; i++) burst.Append($"x{i} LOGIN user{i} guess{i}\r\n");
        c.ClientSends(burst.ToString());
        for (int i = 0; i < 500; i++) c.ServerSends($"z{i} OK unmatched\r\n"); // answers to nothing: settle nothing
        c.ServerSends("x9999 OK finally\r\n");
        h.Finish();

        int held = h.Options.MaxPendingCommands;
        Assert.Equal(10_000 - held, h.Counters.PendingCommandOverflows);
        Assert.Equal(10_000, h.Sink.Auths.Count);
        Assert.Equal(9_999, h.Sink.Auths.Count(a => a.Outcome == AuthOutcome.Unknown));
        AssertLogin(h, "LOGIN", "user9999", AuthOutcome.Success);
    }

    [Fact]
    public void BogusSaslDataIsReportedAsAnAttemptWithoutCrashingAndTheNextLoginIsFound()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Imap);
        c.ServerSends("* OK IMAP ready\r\n");
        c.ClientSends("a1 AUTHENTICATE PLAIN\r\n");
        c.ServerSends("+ \r\n");
        c.ClientSends("!!!!not*base64@@@@\r\n");
        c.ServerSends("a1 BAD invalid base64\r\n");
        c.ClientSends("a2 AUTHENTICATE PLAIN " + Convert.ToBase64String(new byte[] { 0, 0, 0, 255, 254, 0 }) + "\r\n");
        c.ServerSends("a2 NO bad\r\n");
        c.ClientSends("a3 AUTHENTICATE PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0erin\0pw")) + "\r\n");
        c.ServerSends("a3 OK welcome\r\n");
        h.Finish();

        Assert.Equal(3, h.Sink.Auths.Count);
        Assert.All(h.Sink.Auths.Take(2), a => Assert.Equal(AuthOutcome.Failure, a.Outcome));
        AssertLogin(h, "AUTH=PLAIN", "erin", AuthOutcome.Success);
    }

    [Fact]
    public void RandomBinaryOnMailPortsIsReleasedAndLaterSessionsAreAnalysed()
    {
        var rng = new Random(20261128);
        var h = new MailHarness();
        for (int i = 0; i < 200; i++)
        {
            var c = h.Connect(NewClient(), i % 2 == 0 ? Imap : Pop3);
            var bytes = new byte[rng.Next(1, 5_000)];
            rng.NextBytes(bytes);
            if (rng.Next(2) == 0) c.ServerSends(bytes); else c.ClientSends(bytes);
            c.ClientSends(bytes);
            c.FinBoth();
        }
        var p = h.Connect(NewClient(), Pop3);
        p.ServerSends("+OK POP3 ready\r\n");
        p.ClientSends("USER frank\r\n");
        p.ServerSends("+OK\r\n");
        p.ClientSends("PASS pw\r\n");
        p.ServerSends("+OK logged in\r\n");
        var m = h.Connect(NewClient(), Imap);
        m.ServerSends("* OK IMAP ready\r\n");
        m.ClientSends("a LOGIN grace pw\r\n");
        m.ServerSends("a NO [AUTHENTICATIONFAILED] no\r\n");
        h.Finish();

        // Most junk is released at its first line end; the rest (no line end in the first KiB) ends
        // unclassified when the connection closes. None of it is taken for a login.
        Assert.True(h.Counters.MailPortFlowsNotMail >= 150, $"only {h.Counters.MailPortFlowsNotMail} junk connections released");
        Assert.Equal(2, h.Sink.Auths.Count);
        Assert.Equal(0, h.Reassembler.FlowCount);
        AssertLogin(h, "USER", "frank", AuthOutcome.Success);
        AssertLogin(h, "LOGIN", "grace", AuthOutcome.Failure);
    }

    [Fact]
    public void Pop3GarbageBetweenCommandsIsCountedAndTheLoginStillMatchesItsAnswer()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Pop3);
        c.ServerSends("+OK POP3 ready\r\n");
        c.ClientSends("\x01\x02\x03\r\n\xff\xfe\r\nX\r\n" + new string('Q', 40_000) + "\r\n");
        c.ServerSends("-ERR what\r\n-ERR what\r\n");
        c.ClientSends("USER heidi\r\n");
        c.ServerSends("+OK\r\n");
        c.ClientSends("PASS pw\r\n");
        c.ServerSends("+OK in\r\n");
        h.Finish();

        Assert.True(h.Counters.MalformedLines >= 2);
        Assert.Equal(1, h.Counters.LinesTooLong);
        // Answers to lines the sensor did not take for commands break the order; a lock-step
        // exchange finds it again.
        Assert.True(h.Counters.UnmatchedResponses >= 1);
        AssertLogin(h, "USER", "heidi", AuthOutcome.Success);
    }

    [Fact]
    public void Pop3GarbageThenAPipelinedLoginEndsUnknownNeverWrong()
    {
        var h = new MailHarness();
        var c = h.Connect(NewClient(), Pop3);
        c.ServerSends("+OK POP3 ready\r\n");
        c.ClientSends("\x01\x02\x03\r\nX\r\n");
        c.ServerSends("-ERR what\r\n-ERR what\r\n");
        c.ClientSends("USER heidi\r\nPASS pw\r\n");
        c.ServerSends("-ERR\r\n+OK in\r\n");
        h.Finish();

        AssertLogin(h, "USER", "heidi", AuthOutcome.Unknown);
    }

    [Fact]
    public void ThousandsOfConnectionsHoldingHalfALineStayWithinTheLineBudget()
    {
        // Each line alone is within MaxLineLength; together they would be 20,000 x 8 KiB = 160 MB.
        var h = new MailHarness(new AnalysisOptions { MaxPartialLineBytes = 4 * 1024 * 1024 });
        var half = new string('a', 8 * 1024);
        var open = new List<TcpConversation>();
        for (int i = 0; i < 20_000; i++)
        {
            var c = h.Connect(Endpoints.At($"10.{1 + i / 60_000}.{i / 250 % 240}.{i % 250 + 1}", (ushort)(10_000 + i % 50_000)), Imap);
            c.ServerSends("* OK IMAP ready\r\n");
            c.ClientSends("a1 LOGIN " + half);
            open.Add(c);
            Assert.True(h.Context.LineBudget.HeldBytes <= 4 * 1024 * 1024);
        }
        Assert.True(h.Counters.LineBudgetHits > 15_000, $"{h.Counters.LineBudgetHits} budget hits");

        // The connections that kept their half line finish it and are reported; the budget is given back.
        foreach (var c in open.Take(100))
        {
            c.ClientSends(" pw\r\n");
            c.ServerSends("a1 NO [AUTHENTICATIONFAILED] no\r\n");
        }
        var late = h.Connect(NewClient(), Imap);
        late.ServerSends("* OK IMAP ready\r\n");
        late.ClientSends("b LOGIN ivan pw\r\n");
        late.ServerSends("b OK in\r\n");
        h.Finish();

        Assert.Equal(0, h.Context.LineBudget.HeldBytes);
        AssertLogin(h, "LOGIN", "ivan", AuthOutcome.Success);
        Assert.True(h.Sink.Auths.Count(a => a.Outcome == AuthOutcome.Failure) >= 100);
    }
}
