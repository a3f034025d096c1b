using static Sensor.Core.Tests.Smtp.SmtpSessionTests;

namespace Sensor.Core.Tests.Smtp;

/// <summary>
/// SMTP with segments the capture point never saw: loss may cost a login, never make a wrong one
/// (GUIDE.md, "Loss never makes a wrong answer"). Client 10.0.0.1:40000, server 10.0.0.2:587.
/// </summary>
public sealed class SmtpLossTests
{
    private const string Greeting = "220 mail.example.org ESMTP Postfix\r\n";
    private const string EhloReply = "250-mail.example.org\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n";

    private static MailHarness Play(Action<TcpConversation> script, bool handshake = true)
    {
        var harness = MailHarness.Revealing(true);
        var c = harness.Connect(Endpoints.Client, Endpoints.SmtpServer, handshake);
        script(c);
        c.FinBoth();
        harness.Finish();
        return harness;
    }

    private static string Show(MailHarness h) => string.Join(" | ", h.Sink.Auths);

    [Fact]
    public void ALostDataCommandNeverTurnsItsBodyIntoLogins()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends("MAIL FROM:<a@example.org>\r\n");
            c.ServerSends("250 Ok\r\n");
            c.ClientSends("RCPT TO:<b@example.org>\r\n");
            c.ServerSends("250 Ok\r\n");
            c.ClientLoses("DATA\r\n");
            c.ServerSends("354 End data with <CR><LF>.<CR><LF>\r\n");
            c.ClientSends(TrapBody + ".\r\n");
            c.ServerSends("250 2.0.0 Ok: queued\r\n");
            c.ClientSends("QUIT\r\n");
            c.ServerSends("221 Bye\r\n");
        });
        Assert.Empty(h.Sink.Auths);
        Assert.Empty(h.Sink.StartTls);
    }

    [Fact]
    public void ALostDataCommandAndReplyNeverTurnItsBodyIntoLogins()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientLoses("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
            c.ServerLoses("250 Ok\r\n250 Ok\r\n354 go ahead\r\n");
            c.ClientSends(TrapBody + ".\r\n");
            c.ServerSends("250 2.0.0 Ok: queued\r\n");
        });
        Assert.Empty(h.Sink.Auths);
        Assert.Empty(h.Sink.StartTls);
    }

    [Fact]
    public void TheEndOfABodyLostWithItsLastLinesIsFoundByTheServersReply()
    {
        // The "." went missing; the server's reply shows the body is over, and the lone AUTH after it is
        // proven by its own reply.
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
            c.ServerSends("250 Ok\r\n250 Ok\r\n354 go ahead\r\n");
            c.ClientSends("Subject: x\r\n\r\nAUTH PLAIN AGJvYgBidWlsZGVy\r\n");
            c.ClientLoses("more\r\n.\r\n");
            c.ServerSends("250 2.0.0 Ok: queued\r\n");
            c.ClientSends("AUTH LOGIN " + B64("alice") + "\r\n");
            c.ServerSends("334 UGFzc3dvcmQ6\r\n");
            c.ClientSends(B64("wonderland") + "\r\n");
            c.ServerSends("535 5.7.8 Error: authentication failed\r\n");
        });
        var e = Assert.Single(h.Sink.Auths);
        Conversation.AssertAuth(e, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Failure);
    }

    [Fact]
    public void BytesLostInsideABdatChunkOnlyShortenIt()
    {
        var chunk = TrapBody;
        int lost = chunk.IndexOf("AUTH LOGIN", StringComparison.Ordinal);
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n");
            c.ServerSends("250 Ok\r\n250 Ok\r\n");
            c.ClientSends($"BDAT {chunk.Length} LAST\r\n{chunk[..20]}");
            c.ClientLoses(chunk[20..lost]);
            c.ClientSends(chunk[lost..]);
            c.ServerSends("250 2.0.0 Ok: queued\r\n");
            c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
            c.ServerSends("235 ok\r\n");
        });
        // The AUTH after the chunk was read in intact framing but after a loss: its reply proves it.
        var e = Assert.Single(h.Sink.Auths);
        Conversation.AssertAuth(e, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RepliesShiftedByALostCommandNeverTurnARefusedLoginIntoASuccess(bool pipelined)
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientLoses("NOOP\r\n");
            if (pipelined)
            {
                c.ClientSends("RSET\r\n");
                c.ClientSends($"AUTH PLAIN {B64("\0alice\0wrong")}\r\n");
                c.ServerSends("250 Ok\r\n");
                c.ServerSends("250 Ok\r\n");
            }
            else
            {
                c.ServerSends("250 Ok\r\n");
                c.ClientSends("RSET\r\n");
                c.ServerSends("250 Ok\r\n");
                c.ClientSends($"AUTH PLAIN {B64("\0alice\0wrong")}\r\n");
            }
            c.ServerSends("535 5.7.8 Error: authentication failed\r\n");
        });
        Assert.True(h.Sink.Auths.Count <= 1, Show(h));
        Assert.All(h.Sink.Auths, a => Assert.NotEqual(AuthOutcome.Success, a.Outcome));
    }

    [Fact]
    public void ALostFinalReplyLeavesTheOutcomeUnknown()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
            c.ServerLoses("535 5.7.8 Error: authentication failed\r\n");
            c.ClientSends("QUIT\r\n");
            c.ServerSends("221 Bye\r\n");
        });
        var e = Assert.Single(h.Sink.Auths);
        Conversation.AssertAuth(e, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Unknown);
    }

    [Fact]
    public void ALostChallengeKeepsTheExchangeAndItsReply()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends("AUTH LOGIN\r\n");
            c.ServerSends("334 VXNlcm5hbWU6\r\n");
            c.ClientSends(B64("alice") + "\r\n");
            c.ServerLoses("334 UGFzc3dvcmQ6\r\n");
            c.ClientSends(B64("wonderland") + "\r\n");
            c.ServerSends("235 ok\r\n");
        });
        var e = Assert.Single(h.Sink.Auths);
        Conversation.AssertAuth(e, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void ALostGreetingCostsNothing()
    {
        var h = Play(c =>
        {
            c.ServerLoses(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientSends($"AUTH PLAIN {B64("\0alice\0wrong")}\r\n");
            c.ServerSends("535 5.7.8 Error: authentication failed\r\n");
        });
        Assert.True(h.Sink.Auths.Count <= 1, Show(h));
        Assert.All(h.Sink.Auths, a => Assert.NotEqual(AuthOutcome.Success, a.Outcome));
    }

    [Fact]
    public void ACaptureThatBeginsInsideABodyReportsNothingFromIt()
    {
        var h = Play(c =>
        {
            c.ClientSends("AUTH PLAIN AGJvYgBidWlsZGVy\r\nhello\r\n.\r\n");
            c.ServerSends("250 2.0.0 Ok: queued\r\n");
            c.ClientSends("QUIT\r\n");
            c.ServerSends("221 Bye\r\n");
        }, handshake: false);
        Assert.Empty(h.Sink.Auths);
    }

    [Fact]
    public void ACaptureThatBeginsAtAnAuthOnTheSubmissionPortIsProvenByItsReply()
    {
        var h = Play(c =>
        {
            c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
            c.ServerSends("235 2.7.0 Authentication successful\r\n");
        }, handshake: false);
        var e = Assert.Single(h.Sink.Auths);
        Conversation.AssertAuth(e, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
        Assert.Equal(AppProtocol.Smtp, e.Protocol);
    }

    [Fact]
    public void TlsAfterALostStartTlsStopsTheParsing()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("EHLO x\r\n");
            c.ServerSends(EhloReply);
            c.ClientLoses("STARTTLS\r\n");
            c.ServerLoses("220 2.0.0 Ready to start TLS\r\n");
            c.ClientSends(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 });
            c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
            c.ServerSends("235 ok\r\n");
        });
        Assert.Empty(h.Sink.Auths);
        Assert.Equal(1, h.Counters.TlsWithoutStartTlsSeen);
    }
}
