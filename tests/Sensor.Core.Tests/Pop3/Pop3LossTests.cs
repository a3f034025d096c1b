namespace Sensor.Core.Tests.Pop3;

/// <summary>
/// POP3 with segments the capture point never saw (<see cref="TcpConversation.ClientLoses"/>,
/// <see cref="TcpConversation.ServerLoses"/>): loss may cost a login, never make a wrong one
/// (GUIDE.md, "Loss never makes a wrong answer"). Client 10.0.0.1:40000, server 10.0.0.2:110.
/// </summary>
public sealed class Pop3LossTests
{
    private const string Greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

    private static MailHarness Play(Action<TcpConversation> script)
    {
        var harness = MailHarness.Revealing(true);
        var c = harness.Connect(Endpoints.Client, Endpoints.Pop3Server);
        script(c);
        c.FinBoth();
        harness.Finish();
        return harness;
    }

    private static string Show(MailHarness h) => string.Join(" | ", h.Sink.Auths);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnswersShiftedByALostCommandNeverTurnARefusedPasswordIntoASuccess(bool pipelined)
    {
        // Read without the lost NOOP, its +OK answers STAT and STAT's +OK answers PASS: a success for a
        // password the server refused. Lock-step, NOOP's answer arrives before STAT is sent; pipelined,
        // STAT and PASS are on the wire before any of the three answers.
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("USER alice\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientLoses("NOOP\r\n");
            if (pipelined)
            {
                c.ClientSends("STAT\r\n");
                c.ClientSends("PASS x\r\n");
                c.ServerSends("+OK\r\n");
                c.ServerSends("+OK 0 0\r\n");
            }
            else
            {
                c.ServerSends("+OK\r\n");
                c.ClientSends("STAT\r\n");
                c.ServerSends("+OK 0 0\r\n");
                c.ClientSends("PASS x\r\n");
            }
            c.ServerSends("-ERR [AUTH] Authentication failed.\r\n");
        });
        Assert.True(h.Sink.Auths.Count <= 1, Show(h));
        Assert.All(h.Sink.Auths, a => Assert.NotEqual(AuthOutcome.Success, a.Outcome));
    }

    [Fact]
    public void ALostGreetingNeverTurnsARefusedPasswordIntoASuccess()
    {
        var h = Play(c =>
        {
            c.ServerLoses(Greeting);
            c.ClientSends("USER alice\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientSends("PASS x\r\n");
            c.ServerSends("-ERR [AUTH] Authentication failed.\r\n");
        });
        Assert.True(h.Sink.Auths.Count <= 1, Show(h));
        Assert.All(h.Sink.Auths, a => Assert.NotEqual(AuthOutcome.Success, a.Outcome));
    }

    [Fact]
    public void AClientGapEndingOnALineBoundaryCostsNoLine()
    {
        // The lost bytes started and ended at line boundaries and their answer arrived before PASS was
        // sent: PASS is a whole command and -ERR is its answer.
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("USER alice\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientLoses("NOOP\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientSends("PASS hunter2\r\n");
            c.ServerSends("-ERR [AUTH] Authentication failed.\r\n");
        });
        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "USER", "alice", "hunter2", CredentialExposure.Cleartext, AuthOutcome.Failure);
    }

    [Fact]
    public void ALoginAfterALostBodyTerminatorIsReportedButNeverAsAFailure()
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("RETR 1\r\n");
            c.ServerSends("+OK 48 octets\r\n");
            c.ServerSends("From: mallory@example.com\r\nSubject: hi\r\n\r\nhello\r\n");
            c.ServerLoses(".\r\n");
            c.ClientSends("USER bob\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientSends("PASS x\r\n");
            c.ServerSends("+OK Logged in.\r\n");
        });
        var e = Conversation.SingleAuth(h);
        Assert.Equal("USER", e.Mechanism);
        Assert.Equal("bob", e.Username);
        Assert.Equal(CredentialExposure.Cleartext, e.Exposure);
        Assert.NotEqual(AuthOutcome.Failure, e.Outcome);
    }

    [Fact]
    public void ALostBodyTerminatorNeverLetsALaterAnswerSettleARefusedPassword()
    {
        // A session that stays inside the body swallows the answers to USER, PASS x and CAPA until
        // CAPA's own terminator; from there the queue is three answers behind, and the +OK for PASS
        // hunter2 would settle PASS x, which the server refused.
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientSends("RETR 1\r\n");
            c.ServerSends("+OK 48 octets\r\n");
            c.ServerSends("From: mallory@example.com\r\nSubject: hi\r\n\r\nhello\r\n");
            c.ServerLoses(".\r\n");
            c.ClientSends("USER bob\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientSends("PASS x\r\n");
            c.ServerSends("-ERR [AUTH] Authentication failed.\r\n");
            c.ClientSends("CAPA\r\n");
            c.ServerSends("+OK\r\nUSER\r\n.\r\n");
            c.ClientSends("USER bob\r\n");
            c.ServerSends("+OK\r\n");
            c.ClientSends("PASS hunter2\r\n");
            c.ServerSends("+OK Logged in.\r\n");
        });
        Assert.True(h.Sink.Auths.Count <= 2, Show(h));
        Assert.All(h.Sink.Auths, a => Assert.Equal("bob", a.Username));
        Assert.DoesNotContain(h.Sink.Auths, a => a.Secret == "x" && a.Outcome == AuthOutcome.Success);
        Assert.DoesNotContain(h.Sink.Auths, a => a.Secret == "hunter2" && a.Outcome == AuthOutcome.Failure);
    }
}
