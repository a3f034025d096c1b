using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Sensor.Core.Tests.Support.Step;

namespace Sensor.Core.Tests.Pop3;

/// <summary>
/// POP3 conversations through the whole path, client 10.0.0.1:40000 to server 10.0.0.2:110, each
/// replayed with every client message cut at every byte.
/// </summary>
public sealed class Pop3SessionTests
{
    private const string Greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static AnalysisOptions Options(bool reveal) => new() { RevealSecrets = reveal };

    private static void ExpectOneAuth(Step[] steps, bool reveal, string mechanism, string? user, string? secret,
        CredentialExposure exposure, AuthOutcome outcome, bool splitServerToo = false)
    {
        Conversation.AtEverySplit(steps, Endpoints.Pop3Server, Options(reveal), h =>
        {
            var e = Conversation.SingleAuth(h);
            Conversation.AssertAuth(e, mechanism, user, reveal ? secret : null, exposure, outcome);
            Assert.Equal(AppProtocol.Pop3, e.Protocol);
            Assert.Equal(Endpoints.Client, e.Client);
            Assert.Equal(Endpoints.Pop3Server, e.Server);
            Assert.Empty(h.Sink.StartTls);
            Assert.Equal(1, h.Counters.FlowsPop3);
            Assert.Equal(0, h.Counters.UnmatchedResponses);
            Assert.Equal(0, h.Counters.MalformedLines);
        }, splitServerToo: splitServerToo);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UserPassAcceptedIsReportedOnceAtEverySplitPoint(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK maildrop locked and ready\r\n")],
        reveal, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success, splitServerToo: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UserPassRefusedIsAFailure(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n"), S("+OK\r\n"), C("PASS wrong\r\n"), S("-ERR [AUTH] Authentication failed.\r\n")],
        reveal, "USER", "alice", "wrong", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Fact]
    public void PassWithSpacesKeepsTheWholePassword() => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n"), S("+OK\r\n"), C("PASS correct horse battery staple\r\n"), S("+OK\r\n")],
        true, "USER", "alice", "correct horse battery staple", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void PassNeverAnsweredIsUnknownWhenTheConnectionEnds() => ExpectOneAuth(
        [S(Greeting), C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n")],
        true, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Unknown);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ApopIsReportedAsHashed(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("+OK mrose's maildrop has 2 messages (320 octets)\r\n")],
        reveal, "APOP", "mrose", "c4c9334bac560ecc979e58001b3e22fb", CredentialExposure.Hashed, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthPlainWithInitialResponseIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C($"AUTH PLAIN {B64("\0alice\0secret")}\r\n"), S("+OK Logged in.\r\n")],
        reveal, "AUTH=PLAIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthPlainWithoutInitialResponseIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("AUTH PLAIN\r\n"), S("+ \r\n"), C(B64("\0alice\0secret") + "\r\n"), S("+OK Logged in.\r\n")],
        reveal, "AUTH=PLAIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthLoginIsReportedOnce(bool reveal) => ExpectOneAuth(
        [
            S(Greeting), C("AUTH LOGIN\r\n"),
            S("+ VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"),
            S("+ UGFzc3dvcmQ6\r\n"), C(B64("secret") + "\r\n"),
            S("-ERR [AUTH] Authentication failed.\r\n"),
        ],
        reveal, "AUTH=LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthCramMd5IsReportedAsHashed(bool reveal) => ExpectOneAuth(
        [
            S(Greeting), C("AUTH CRAM-MD5\r\n"),
            S("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            C(B64("tim b913a602c7eda7a495b4e6e7334d3890") + "\r\n"),
            S("+OK CRAM authentication successful\r\n"),
        ],
        reveal, "AUTH=CRAM-MD5", "tim", "b913a602c7eda7a495b4e6e7334d3890", CredentialExposure.Hashed, AuthOutcome.Success);

    [Fact]
    public void PipelinedCommandsWithAMultiLineListAreAnsweredInOrder() => ExpectOneAuth(
        [
            S(Greeting),
            C("USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nQUIT\r\n"),
            S("+OK\r\n+OK logged in\r\n+OK 2 320\r\n+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n+OK bye\r\n"),
        ],
        true, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success, splitServerToo: true);

    [Fact]
    public void PipelinedLoginRefusedAfterAMultiLineListIsAFailure() => ExpectOneAuth(
        [
            S(Greeting),
            C("CAPA\r\nLIST\r\nUSER alice\r\nPASS secret\r\n"),
            S("+OK\r\nUSER\r\n.\r\n-ERR not logged in\r\n+OK\r\n-ERR [AUTH] bad\r\n"),
        ],
        true, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Failure, splitServerToo: true);

    [Fact]
    public void RetrBodyWithCommandLikeLinesIsNotParsed()
    {
        const string body =
            "+OK 120 octets\r\nFrom: mallory@example.com\r\n\r\nUSER x\r\nPASS y\r\n+OK\r\n-ERR\r\n.. dot-stuffed\r\n..\r\n.\r\n";
        Conversation.AtEverySplit(
            [
                S(Greeting), C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
                C("RETR 1\r\nQUIT\r\n"), S(body + "+OK bye\r\n"),
            ],
            Endpoints.Pop3Server, Options(true), h =>
            {
                var e = Conversation.SingleAuth(h);
                Conversation.AssertAuth(e, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
                Assert.Equal(0, h.Counters.UnmatchedResponses);
                Assert.Equal(0, h.Counters.MalformedLines);
            }, splitServerToo: true);
    }

    [Fact]
    public void CommandLikeLinesInTheServerBodyDoNotAnswerALaterPass()
    {
        // Were the body's "-ERR" and "+OK" read as status lines, they would answer USER and PASS: a success.
        const string body = "+OK message follows\r\n-ERR\r\n+OK\r\n.\r\n";
        ExpectOneAuth(
            [S(Greeting), C("TOP 1 0\r\nUSER alice\r\nPASS secret\r\n"), S(body + "+OK\r\n-ERR [AUTH] bad\r\n")],
            true, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Failure, splitServerToo: true);
    }

    [Fact]
    public void ABodyLineCutJustBeforeItsLastDotDoesNotEndTheBody()
    {
        // Cut after "www", the next segment is ".\r\n": only a line start can end a body, and this is
        // the rest of a line. Were it taken as the end, "-ERR" and "+OK" would answer USER and PASS.
        const string body = "+OK message follows\r\nwww.\r\n-ERR\r\n+OK\r\nsee you.\r\n.\r\n";
        ExpectOneAuth(
            [S(Greeting), C("TOP 1 0\r\nUSER alice\r\nPASS secret\r\n"), S(body + "+OK\r\n-ERR [AUTH] bad\r\n")],
            true, "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Failure, splitServerToo: true);
    }

    [Fact]
    public void CapaListingStlsMarksTheServerAsOfferingStartTls()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting), C("CAPA\r\n"), S("+OK Capability list follows\r\nTOP\r\nUSER\r\nSTLS\r\nSASL PLAIN LOGIN\r\n.\r\n"),
                C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
            ],
            Endpoints.Pop3Server, Options(false), h => Assert.True(Conversation.SingleAuth(h).ServerOffersStartTls),
            splitServerToo: true);
    }

    [Fact]
    public void CapaWithoutStlsMarksTheServerAsNotOfferingStartTls()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting), C("CAPA\r\n"), S("+OK\r\nTOP\r\nUSER\r\n.\r\n"),
                C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
            ],
            Endpoints.Pop3Server, Options(false), h => Assert.False(Conversation.SingleAuth(h).ServerOffersStartTls));
    }

    [Fact]
    public void StlsAcceptedIsReportedOnceAndNothingAfterItIsParsed()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting), C("STLS\r\n"), S("+OK Begin TLS negotiation\r\n"),
                C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
            ],
            Endpoints.Pop3Server, Options(true), h =>
            {
                var tls = Assert.Single(h.Sink.StartTls);
                Assert.Equal(AuthOutcome.Success, tls.Outcome);
                Assert.Equal(AppProtocol.Pop3, tls.Protocol);
                Assert.Empty(h.Sink.Auths);
                Assert.Equal(1, h.Counters.TlsUpgrades);
            });
    }

    [Fact]
    public void StlsRefusedThenUserPassReportsBoth()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting), C("STLS\r\n"), S("-ERR not available\r\n"),
                C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK\r\n"),
            ],
            Endpoints.Pop3Server, Options(true), h =>
            {
                Assert.Equal(AuthOutcome.Failure, Assert.Single(h.Sink.StartTls).Outcome);
                Conversation.AssertAuth(Conversation.SingleAuth(h), "USER", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
            });
    }

    [Fact]
    public void GarbageBinaryBytesOnThePop3PortProduceNoEvents()
    {
        var random = new Random(110);
        for (int round = 0; round < 50; round++)
        {
            var h = new MailHarness(Options(true));
            var c = h.Connect(Endpoints.Client, Endpoints.Pop3Server);
            for (int i = 0; i < 6; i++)
            {
                var bytes = new byte[random.Next(1, 1500)];
                random.NextBytes(bytes);
                bytes[0] = (byte)(0x80 | bytes[0]); // never a text line start
                if (i % 2 == 0) c.ServerSends(bytes); else c.ClientSends(bytes);
            }
            c.ClientSends("USER alice\r\nPASS secret\r\n");
            c.ServerSends("+OK\r\n+OK\r\n");
            c.FinBoth();
            h.Finish();
            Assert.Empty(h.Sink.Events);
            Assert.Equal(1, h.Counters.FlowsNotMail);
            Assert.Equal(1, h.Counters.MailPortFlowsNotMail);
        }
    }

    /// <summary>Whatever binary bytes either side sends (no chunk starts like text), nothing throws and nothing is reported.</summary>
    /// <summary>
    /// Message bodies are stepped over a run of lines at a time (only lines beginning with "." are
    /// looked at). Whatever the body holds (decoy status lines, byte-stuffed lines, bare LFs, long
    /// lines) and wherever the server's bytes are cut into segments, the body ends at its "." and the
    /// answers after it settle the login, exactly as when each line is framed on its own.
    /// </summary>
    [Property(MaxTest = 400, Replay = "(424242,1939)")]
    public Property BodiesCutAnywhereEndAtTheirTerminatorAndNothingInsideAnswersALogin() => Prop.ForAll(
        Gen.Choose(0, 12).SelectMany(k => Gen.ArrayOf(
                Gen.Elements("+OK", "-ERR [AUTH] no", "..", "..+OK", ".. stuffed", "USER x", "", "x", "end.", "a.b", new string('y', 900), "+ OK"), k))
            .SelectMany(lines => Gen.Elements("\r\n", "\n")
                .SelectMany(end => Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 100_000), n))
                    .SelectMany(cuts => Gen.Elements(true, false).Select(accepted => (lines, end, cuts, accepted)))))
            .ToArbitrary(),
        input =>
        {
            var (bodyLines, lineEnd, cuts, accepted) = input;
            string body = "+OK message follows\r\n" + string.Concat(bodyLines.Select(l => l + lineEnd)) + ".\r\n";
            var server = Encoding.ASCII.GetBytes(body + "+OK\r\n" + (accepted ? "+OK maildrop locked\r\n" : "-ERR [AUTH] bad\r\n"));
            var steps = new List<Step> { S(Greeting), C("TOP 1 0\r\nUSER alice\r\nPASS secret\r\n") };
            int at = 0;
            foreach (int cut in cuts.Select(c => c % server.Length).Distinct().Order())
            {
                if (cut <= at) continue;
                steps.Add(S(server[at..cut]));
                at = cut;
            }
            steps.Add(S(server[at..]));
            var h = Conversation.Play(steps, Endpoints.Pop3Server, Options(true));
            var e = Conversation.SingleAuth(h);
            Conversation.AssertAuth(e, "USER", "alice", "secret", CredentialExposure.Cleartext,
                accepted ? AuthOutcome.Success : AuthOutcome.Failure);
            Assert.Equal(0, h.Counters.UnmatchedResponses);
            Assert.Equal(0, h.Counters.MalformedLines);
        });

    [Property(MaxTest = 300, Replay = "(110110,3141)")]
    public Property ArbitraryBytesOnThePop3PortNeverThrow() => Prop.ForAll(
        Gen.Choose(1, 8).SelectMany(k =>
                Gen.ArrayOf(Gen.Zip(Gen.Elements(true, false), Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))), k))
            .ToArbitrary(),
        messages =>
        {
            var h = new MailHarness(Options(true));
            var c = h.Connect(Endpoints.Client, Endpoints.Pop3Server);
            foreach (var (fromClient, bytes) in messages)
            {
                if (bytes.Length == 0) continue;
                bytes[0] |= 0x80;
                if (fromClient) c.ClientSends(bytes); else c.ServerSends(bytes);
            }
            c.FinBoth();
            Assert.Empty(h.Sink.Events);
        });
}
