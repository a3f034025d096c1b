using static Sensor.Core.Tests.Support.Step;

namespace Sensor.Core.Tests.Imap;

/// <summary>
/// Attempts the server refuses before any secret is sent are still auth events (GUIDE.md, "Exposure
/// says what crossed the wire"): exposure none, the username if it was sent, the outcome from the
/// answer. Every client message cut at every byte.
/// </summary>
public sealed class ImapRefusedAttemptTests
{
    private const string Greeting = "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n";

    [Theory]
    [InlineData("LOGIN")]
    [InlineData("PLAIN")]
    public void AuthenticateRefusedBeforeAnyResponseIsAFailureThatExposedNothing(string mechanism) =>
        Conversation.AtEverySplit(
            [S(Greeting), C($"a1 AUTHENTICATE {mechanism}\r\n"), S("a1 NO STARTTLS required\r\n"), C("a2 LOGOUT\r\n"), S("* BYE\r\na2 OK\r\n")],
            Endpoints.ImapServer, new AnalysisOptions { RevealSecrets = true }, h =>
            {
                var e = Conversation.SingleAuth(h);
                Conversation.AssertAuth(e, "AUTH=" + mechanism, null, null, CredentialExposure.None, AuthOutcome.Failure);
                Assert.Equal(AppProtocol.Imap, e.Protocol);
                Assert.Empty(h.Sink.StartTls);
            });
}
