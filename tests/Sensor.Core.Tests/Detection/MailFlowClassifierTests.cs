namespace Sensor.Core.Tests.Detection;

/// <summary>Which connections are mail, and which side is the server, decided from their first lines.</summary>
public sealed class MailFlowClassifierTests
{
    private static readonly AnalysisOptions Reveal = new() { RevealSecrets = true };

    [Fact]
    public void ImapOnANonStandardPortIsDetectedByItsGreeting()
    {
        var h = new MailHarness(Reveal);
        var server = Endpoints.At("10.0.0.2", 8143);
        var c = h.Connect(Endpoints.Client, server);
        c.ServerSends("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready.\r\n");
        c.ClientSends("a1 LOGIN alice secret\r\n");
        c.ServerSends("a1 OK Logged in\r\n");
        c.FinBoth();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
        Assert.Equal(AppProtocol.Imap, e.Protocol);
        Assert.Equal(server, e.Server);
        Assert.Equal(1, h.Counters.FlowsImap);
        Assert.Equal(0, h.Counters.FlowsNotMail);
    }

    [Fact]
    public void Pop3OnANonStandardPortIsDetectedByItsGreeting()
    {
        var h = new MailHarness(Reveal);
        var server = Endpoints.At("10.0.0.2", 1110);
        var c = h.Connect(Endpoints.Client, server);
        c.ServerSends("+OK Dovecot ready.\r\n");
        c.ClientSends("USER alice\r\n");
        c.ServerSends("+OK\r\n");
        c.ClientSends("PASS secret\r\n");
        c.ServerSends("+OK Logged in.\r\n");
        c.FinBoth();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
        Assert.Equal(AppProtocol.Pop3, e.Protocol);
        Assert.Equal(server, e.Server);
        Assert.Equal(1, h.Counters.FlowsPop3);
    }

    [Fact]
    public void RolesAreSwappedWhenWithoutAHandshakeTheHigherPortGreetsFirst()
    {
        var h = new MailHarness(Reveal);
        var client = Endpoints.At("10.0.0.1", 1025);
        var server = Endpoints.At("10.0.0.2", 50110);
        var c = h.Connect(client, server, handshake: false);
        c.ServerSends("+OK POP3 ready\r\n");
        c.ClientSends("USER bob\r\n");
        c.ServerSends("+OK\r\n");
        c.ClientSends("PASS hunter2\r\n");
        c.ServerSends("+OK\r\n");
        h.Finish();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "USER", "bob", "hunter2", CredentialExposure.Cleartext, AuthOutcome.Success);
        Assert.Equal(server, e.Server);
        Assert.Equal(client, e.Client);
    }

    [Fact]
    public void RolesAreSwappedWhenWithoutAHandshakeAnImapServerOnAHighPortGreetsFirst()
    {
        var h = new MailHarness(Reveal);
        var client = Endpoints.At("10.0.0.1", 1025);
        var server = Endpoints.At("10.0.0.2", 50143);
        var c = h.Connect(client, server, handshake: false);
        c.ServerSends("* OK IMAP4rev1 ready\r\n");
        c.ClientSends("a1 LOGIN bob hunter2\r\n");
        c.ServerSends("a1 OK\r\n");
        h.Finish();

        var e = Conversation.SingleAuth(h);
        Assert.Equal(server, e.Server);
        Assert.Equal(client, e.Client);
        Assert.Equal(AuthOutcome.Success, e.Outcome);
    }

    [Fact]
    public void HttpOnPort80CarryingUserAndPassLinesIsNotMail()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.At("10.0.0.2", 80));
        c.ClientSends("POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 24\r\n\r\nUSER bob\r\nPASS hunter2\r\n");
        c.ServerSends("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n+OK\r\n-ERR\r\n.\r\n");
        c.ClientSends("USER bob\r\nPASS hunter2\r\n");
        c.ServerSends("+OK\r\n+OK\r\n");
        c.FinBoth();

        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Counters.FlowsNotMail);
        Assert.Equal(0, h.Counters.MailPortFlowsNotMail);
        Assert.Equal(0, h.Counters.FlowsPop3 + h.Counters.FlowsImap);
    }

    [Fact]
    public void HttpResponseCarryingUserAndPassLinesIsNotMail()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.At("10.0.0.2", 80));
        c.ClientSends("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
        c.ServerSends("HTTP/1.1 200 OK\r\n\r\nUSER bob\r\nPASS x\r\n");
        c.FinBoth();

        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Counters.FlowsNotMail);
    }

    [Fact]
    public void FtpUserAnsweredBy331IsNotMail()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.At("10.0.0.2", 21));
        c.ClientSends("USER bob\r\n");
        c.ServerSends("331 Password required for bob\r\n");
        c.ClientSends("PASS hunter2\r\n");
        c.ServerSends("230 User bob logged in\r\n");
        c.FinBoth();

        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Counters.FlowsNotMail);
    }

    [Fact]
    public void FtpWithItsGreetingIsNotMail()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.At("10.0.0.2", 21));
        c.ServerSends("220 ProFTPD Server ready\r\n");
        c.ClientSends("USER bob\r\n");
        c.ServerSends("331 Password required for bob\r\n");
        c.ClientSends("PASS hunter2\r\n");
        c.ServerSends("230 User bob logged in\r\n");
        c.FinBoth();

        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Counters.FlowsNotMail);
    }

    [Fact]
    public void AGapBeforeTheProtocolIsKnownReleasesTheFlow()
    {
        var h = new MailHarness(Reveal);
        h.Connect(Endpoints.Client, Endpoints.ImapServer, clientIsn: 100, serverIsn: 900);
        // The greeting's first segment is lost; the rest of the conversation is whole.
        h.Reassembler.OnSegment(new TcpSegment(Endpoints.ImapServer, Endpoints.Client, 901 + 5, 101, TcpFlags.Ack,
            "IMAP4rev1 ready\r\n"u8, h.Clock.Tick()));
        h.Reassembler.OnSegment(new TcpSegment(Endpoints.Client, Endpoints.ImapServer, 101, 901 + 22, TcpFlags.Ack,
            "a1 LOGIN alice secret\r\n"u8, h.Clock.Tick()));
        h.Finish();

        Assert.Equal(1, h.Counters.Gaps);
        Assert.Empty(h.Sink.Events);
        Assert.Equal(1, h.Counters.MailPortFlowsNotMail);
    }

    /// <summary>
    /// Picked up mid-connection (no handshake, no greeting), the first client segment is larger than
    /// the classifier's prefix. Whatever the classifier keeps to decide, the session must still get
    /// every byte of that segment: the LOGIN at its end crossed in cleartext.
    /// </summary>
    [Fact]
    public void FirstSegmentLargerThanThePrefixReachesTheSessionWhole()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.ImapServer, handshake: false);
        var first = new StringBuilder("a0 CAPABILITY\r\n");
        for (int i = 1; first.Length < 1100; i++) first.Append($"n{i} NOOP\r\n");
        first.Append("a9 LOGIN alice secret\r\n");
        Assert.True(Encoding.ASCII.GetByteCount(first.ToString()) > Sensor.Core.Detection.MailFlowClassifier.MaxPrefixPerDirection);

        c.ClientSends(first.ToString());
        c.ServerSends("* CAPABILITY IMAP4rev1\r\na0 OK\r\na9 OK Logged in\r\n");
        h.Finish();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void ConnectionEndingBeforeAnyCompleteLineStillSettlesWhatItCan()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.Pop3Server, handshake: false);
        c.ClientSends("USER alice\r\nPASS secret\r\n");
        h.Finish();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Unknown);
    }
}
