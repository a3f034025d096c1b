using static Sensor.Core.Tests.Support.Step;

namespace Sensor.Core.Tests.Pop3;

/// <summary>
/// Attempts the server refuses before any secret is sent are still auth events (GUIDE.md, "Exposure
/// says what crossed the wire"): exposure none, the username if it was sent, the outcome from the
/// answer (unknown when none came). Every client message cut at every byte.
/// </summary>
public sealed class Pop3RefusedAttemptTests
{
    private const string Greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

    private static void ExpectOneAuth(Step[] steps, string mechanism, string? user, AuthOutcome outcome,
        Ending ending = Ending.Fin) =>
        Conversation.AtEverySplit(steps, Endpoints.Pop3Server, new AnalysisOptions { RevealSecrets = true }, h =>
        {
            var e = Conversation.SingleAuth(h);
            Conversation.AssertAuth(e, mechanism, user, null, CredentialExposure.None, outcome);
            Assert.Equal(AppProtocol.Pop3, e.Protocol);
            Assert.Empty(h.Sink.StartTls);
        }, ending);

    [Fact]
    public void UserRefusedBeforeThePasswordIsAFailureThatExposedNothing() => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n"), S("-ERR TLS required\r\n"), C("QUIT\r\n"), S("+OK bye\r\n")],
        "USER", "alice", AuthOutcome.Failure);

    [Fact]
    public void UserSentIntoAClosingConnectionIsUnknownAndExposedNothing() => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n")],
        "USER", "alice", AuthOutcome.Unknown, Ending.ServerCloses);

    [Fact]
    public void AuthPlainRefusedBeforeAnyResponseIsAFailureThatExposedNothing() => ExpectOneAuth(
        [S(Greeting), C("AUTH PLAIN\r\n"), S("-ERR [AUTH] Plaintext authentication disabled.\r\n"), C("QUIT\r\n"), S("+OK bye\r\n")],
        "AUTH=PLAIN", null, AuthOutcome.Failure);
}
