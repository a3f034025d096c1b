namespace Sensor.Core.Tests.Imap;

/// <summary>
/// IMAP with segments the capture point never saw (<see cref="TcpConversation.ClientLoses"/>,
/// <see cref="TcpConversation.ServerLoses"/>): loss may cost a login, never make a wrong one
/// (GUIDE.md, "Loss never makes a wrong answer"). Client 10.0.0.1:40000, server 10.0.0.2:143.
/// </summary>
public sealed class ImapLossTests
{
    private const string Greeting = "* OK IMAP4rev1 Service Ready\r\n";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static MailHarness Play(Action<TcpConversation> script)
    {
        var harness = MailHarness.Revealing(true);
        var c = harness.Connect(Endpoints.Client, Endpoints.ImapServer);
        script(c);
        c.FinBoth();
        harness.Finish();
        return harness;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ALoginAfterAnAuthenticateWhoseAnswerWasLostIsReported(bool initialResponse)
    {
        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            if (initialResponse)
            {
                c.ClientSends($"a1 AUTHENTICATE PLAIN {B64("\0alice\0wrong")}\r\n");
            }
            else
            {
                c.ClientSends("a1 AUTHENTICATE PLAIN\r\n");
                c.ServerSends("+ \r\n");
                c.ClientSends(B64("\0alice\0wrong") + "\r\n");
            }
            c.ServerLoses("a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
            c.ClientSends("a2 LOGIN bob hunter2\r\n");
            c.ServerSends("a2 OK LOGIN completed\r\n");
        });
        var bob = Assert.Single(h.Sink.Auths, a => a.Mechanism == "LOGIN");
        Conversation.AssertAuth(bob, "LOGIN", "bob", "hunter2", CredentialExposure.Cleartext, AuthOutcome.Success);
        // a1's answer was never seen: whatever is said of it must not be a success.
        Assert.All(h.Sink.Auths.Where(a => a != bob), a =>
        {
            Assert.Equal("AUTH=PLAIN", a.Mechanism);
            Assert.NotEqual(AuthOutcome.Success, a.Outcome);
        });
    }

    [Fact]
    public void LinesOfALiteralWhoseAppendWasLostAreNotLogins()
    {
        // The APPEND line announcing the literal is lost; its 512 bytes arrive and hold command-like
        // lines, which the server never answers (it answers a8 once the literal is through).
        string[] bait =
        [
            "From: mallory@example.com\r\n", "Subject: not a login\r\n", "\r\n",
            "a9 LOGIN mallory hunter2\r\n",
            $"a10 AUTHENTICATE PLAIN {B64("\0mallory\0hunter2")}\r\n",
        ];
        int used = bait.Sum(Encoding.UTF8.GetByteCount);
        string[] body = [.. bait, new string('x', 512 - used - 2) + "\r\n"];
        Assert.Equal(512, body.Sum(Encoding.UTF8.GetByteCount));

        var h = Play(c =>
        {
            c.ServerSends(Greeting);
            c.ClientLoses("a8 APPEND INBOX {512}\r\n");
            c.ServerSends("+ Ready for literal data\r\n");
            foreach (var line in body) c.ClientSends(line);
            c.ClientSends("\r\n");
            c.ServerSends("a8 OK [APPENDUID 1 1] Append completed.\r\n");
        });
        Assert.DoesNotContain(h.Sink.Auths, a => a.Username == "mallory");
        Assert.Empty(h.Sink.Auths);
    }
}
