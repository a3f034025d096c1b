using static Sensor.Core.Tests.Support.Step;

namespace Sensor.Core.Tests.Imap;

/// <summary>
/// IMAP conversations through the whole path (handshake, reassembler, classifier, session), client
/// 10.0.0.1:40000 to server 10.0.0.2:143, each replayed with every client message cut at every byte.
/// </summary>
public sealed class ImapSessionTests
{
    private const string Greeting = "* OK IMAP4rev1 Service Ready\r\n";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static AnalysisOptions Options(bool reveal) => new() { RevealSecrets = reveal };

    /// <summary>Every split of the script yields exactly this one auth event and nothing else.</summary>
    private static void ExpectOneAuth(Step[] steps, bool reveal, string mechanism, string? user, string? secret,
        CredentialExposure exposure, AuthOutcome outcome, Ending ending = Ending.Fin, bool splitServerToo = false)
    {
        int runs = Conversation.AtEverySplit(steps, Endpoints.ImapServer, Options(reveal), h =>
        {
            var e = Conversation.SingleAuth(h);
            Conversation.AssertAuth(e, mechanism, user, reveal ? secret : null, exposure, outcome);
            Assert.Equal(AppProtocol.Imap, e.Protocol);
            Assert.Equal(Endpoints.Client, e.Client);
            Assert.Equal(Endpoints.ImapServer, e.Server);
            Assert.Empty(h.Sink.StartTls);
            Assert.Equal(1, h.Counters.FlowsImap);
            Assert.Equal(0, h.Counters.MalformedLines);
        }, ending, splitServerToo);
        Assert.True(runs > steps.Where(s => s.Direction == StreamDirection.ClientToServer).Sum(s => s.Bytes.Length) - steps.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginWithAtomArgumentsIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("a1 LOGIN alice secret\r\n"), S("a1 OK LOGIN completed\r\n")],
        reveal, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginWithQuotedArgumentsIsUnescaped(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("a1 LOGIN \"al\\\"ice\" \"pa\\\\ss\"\r\n"), S("a1 OK LOGIN completed\r\n")],
        reveal, "LOGIN", "al\"ice", "pa\\ss", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginWithSynchronizingLiteralsIsReportedOnce(bool reveal) => ExpectOneAuth(
        [
            S(Greeting),
            C("a1 LOGIN {5}\r\n"), S("+ go ahead\r\n"),
            C("alice {6}\r\n"), S("+ go ahead\r\n"),
            C("secret\r\n"), S("a1 OK LOGIN completed\r\n"),
        ],
        reveal, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginWithNonSynchronizingLiteralsIsReportedOnce(bool reveal) => ExpectOneAuth(
        [
            S("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
            C("a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n"),
            S("a1 OK LOGIN completed\r\n"),
        ],
        reveal, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginWithQuotedUserAndLiteralPasswordContainingSpacesIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("a1 LOGIN \"alice\" {10}\r\n"), S("+ OK\r\n"), C("p a s s\r\nw\r\n"), S("a1 OK\r\n")],
        reveal, "LOGIN", "alice", "p a s s\r\nw", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticatePlainWithInitialResponseIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C($"a1 AUTHENTICATE PLAIN {B64("\0alice\0secret")}\r\n"), S("a1 OK Success\r\n")],
        reveal, "AUTH=PLAIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticatePlainWithContinuationIsReportedOnce(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C(B64("\0alice\0secret") + "\r\n"), S("a1 OK Success\r\n")],
        reveal, "AUTH=PLAIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticateLoginIsReportedOnce(bool reveal) => ExpectOneAuth(
        [
            S(Greeting), C("a1 AUTHENTICATE LOGIN\r\n"),
            S("+ VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"),
            S("+ UGFzc3dvcmQ6\r\n"), C(B64("secret") + "\r\n"),
            S("a1 OK Success\r\n"),
        ],
        reveal, "AUTH=LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticateXoauth2ReportsTheUserAndTheBearerToken(bool reveal) => ExpectOneAuth(
        [
            S(Greeting),
            C($"a1 AUTHENTICATE XOAUTH2 {B64("user=alice@example.com\u0001auth=Bearer ya29.vF9dft4qmT\u0001\u0001")}\r\n"),
            S("a1 OK Success\r\n"),
        ],
        reveal, "AUTH=XOAUTH2", "alice@example.com", "ya29.vF9dft4qmT", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticateOauthbearerReportsTheAuthzidAndTheToken(bool reveal) => ExpectOneAuth(
        [
            S(Greeting),
            C($"a1 AUTHENTICATE OAUTHBEARER {B64("n,a=alice@example.com,\u0001host=imap.example.com\u0001port=143\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\u0001\u0001")}\r\n"),
            S("a1 OK Success\r\n"),
        ],
        reveal, "AUTH=OAUTHBEARER", "alice@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
        CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthenticateCramMd5IsReportedAsHashed(bool reveal) => ExpectOneAuth(
        [
            S(Greeting), C("a1 AUTHENTICATE CRAM-MD5\r\n"),
            S("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            C(B64("tim b913a602c7eda7a495b4e6e7334d3890") + "\r\n"),
            S("a1 OK CRAM-MD5 authentication successful\r\n"),
        ],
        reveal, "AUTH=CRAM-MD5", "tim", "b913a602c7eda7a495b4e6e7334d3890", CredentialExposure.Hashed, AuthOutcome.Success);

    private static readonly Step[] LoginCancelledAtThePasswordPrompt =
    [
        S(Greeting), C("a1 AUTHENTICATE LOGIN\r\n"),
        S("+ VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"),
        S("+ UGFzc3dvcmQ6\r\n"), C("*\r\n"),
    ];

    // Cancelled at the password prompt: the username crossed, the password did not.
    [Fact]
    public void AuthenticateCancelledWithStarIsAFailure() => ExpectOneAuth(
        [.. LoginCancelledAtThePasswordPrompt, S("a1 BAD AUTHENTICATE cancelled\r\n")],
        true, "AUTH=LOGIN", "alice", null, CredentialExposure.None, AuthOutcome.Failure);

    [Fact]
    public void AuthenticateCancelledWithStarAndNeverAnsweredIsStillAFailure() => ExpectOneAuth(
        LoginCancelledAtThePasswordPrompt,
        true, "AUTH=LOGIN", "alice", null, CredentialExposure.None, AuthOutcome.Failure);

    [Fact]
    public void AuthenticateCancelledBeforeAnyResponseIsCountedButNotALoginAttempt()
    {
        Conversation.AtEverySplit(
            [S(Greeting), C("a1 AUTHENTICATE DIGEST-MD5\r\n"), S("+ cmVhbG09ImV4YW1wbGUiLG5vbmNlPSJhYmMiLHFvcD0iYXV0aCIsYWxnb3JpdGhtPW1kNS1zZXNzLGNoYXJzZXQ9dXRmLTg=\r\n"), C("*\r\n"), S("a1 BAD cancelled\r\n")],
            Endpoints.ImapServer, Options(true), h =>
            {
                Assert.Empty(h.Sink.Events);
                Assert.Equal(1, h.Counters.SaslExchangesAbortedEmpty);
            });
    }

    [Fact]
    public void CommandsAfterACancelledAuthenticateAreParsedAgain()
    {
        Conversation.AtEverySplit(
            [
                .. LoginCancelledAtThePasswordPrompt, S("a1 BAD cancelled\r\n"),
                C("a2 LOGIN bob hunter2\r\n"), S("a2 OK\r\n"),
            ],
            Endpoints.ImapServer, Options(true), h =>
            {
                Assert.Equal(2, h.Sink.Auths.Count);
                Conversation.AssertAuth(h.Sink.Auths[0], "AUTH=LOGIN", "alice", null, CredentialExposure.None, AuthOutcome.Failure);
                Conversation.AssertAuth(h.Sink.Auths[1], "LOGIN", "bob", "hunter2", CredentialExposure.Cleartext, AuthOutcome.Success);
            });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoginAnsweredNoIsAFailure(bool reveal) => ExpectOneAuth(
        [S(Greeting), C("a1 LOGIN alice wrong\r\n"), S("a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")],
        reveal, "LOGIN", "alice", "wrong", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Fact]
    public void PipelinedLoginsAnsweredInReverseOrderAreMatchedByTag()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting),
                C("a1 LOGIN alice pw1\r\na2 LOGIN bob pw2\r\n"),
                S("a2 NO [AUTHENTICATIONFAILED] bad\r\na1 OK LOGIN completed\r\n"),
            ],
            Endpoints.ImapServer, Options(true), h =>
            {
                Assert.Equal(2, h.Sink.Auths.Count);
                var alice = Assert.Single(h.Sink.Auths, a => a.Username == "alice");
                var bob = Assert.Single(h.Sink.Auths, a => a.Username == "bob");
                Conversation.AssertAuth(alice, "LOGIN", "alice", "pw1", CredentialExposure.Cleartext, AuthOutcome.Success);
                Conversation.AssertAuth(bob, "LOGIN", "bob", "pw2", CredentialExposure.Cleartext, AuthOutcome.Failure);
            }, splitServerToo: true);
    }

    [Theory]
    [InlineData(Ending.Fin)]
    [InlineData(Ending.EndOfInput)]
    public void LoginNeverAnsweredIsUnknownWhenTheConnectionEnds(Ending ending) => ExpectOneAuth(
        [S(Greeting), C("a1 LOGIN alice secret\r\n")],
        true, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Unknown, ending);

    private const string AppendBody =
        "From: mallory@example.com\r\nSubject: bait\r\n\r\na2 LOGIN fake pass\r\n" +
        "a3 LOGIN {4}\r\nfake\r\n* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\nsee the trailer {10}";

    [Fact]
    public void AppendLiteralContainingLoginLinesProducesNoEventFromTheBody()
    {
        int n = Encoding.UTF8.GetByteCount(AppendBody);
        ExpectOneAuth(
            [
                S(Greeting),
                C($"a1 APPEND INBOX (\\Seen) {{{n}}}\r\n"), S("+ Ready for literal data\r\n"),
                C(AppendBody + "\r\n"), S("a1 OK APPEND completed\r\n"),
                C("a4 LOGIN alice secret\r\n"), S("a4 OK LOGIN completed\r\n"),
            ],
            true, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void AppendWithNonSynchronizingLiteralProducesNoEventFromTheBody()
    {
        int n = Encoding.UTF8.GetByteCount(AppendBody);
        ExpectOneAuth(
            [
                S(Greeting),
                C($"a1 APPEND INBOX {{{n}+}}\r\n{AppendBody}\r\na4 LOGIN alice secret\r\n"),
                S("a1 OK APPEND completed\r\na4 OK LOGIN completed\r\n"),
            ],
            true, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void ServerFetchLiteralContainingATaggedOkIsIgnored()
    {
        const string literal = "a1 OK faked inside a message\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n+ \r\n";
        int n = Encoding.UTF8.GetByteCount(literal);
        ExpectOneAuth(
            [
                S(Greeting),
                C("a1 LOGIN alice secret\r\n"),
                S($"* 1 FETCH (UID 7 BODY[] {{{n}}}\r\n{literal})\r\na1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
            ],
            true, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Failure, splitServerToo: true);
        var h = Conversation.Play(
            [S(Greeting), C("a1 LOGIN alice secret\r\n"), S($"* 1 FETCH (BODY[] {{{n}}}\r\n{literal})\r\na1 NO no\r\n")],
            Endpoints.ImapServer);
        Assert.Null(h.Sink.Auths[0].ServerOffersStartTls); // the capability inside the literal was not read
    }

    [Fact]
    public void StartTlsAcceptedIsReportedOnceAndNothingAfterItIsParsed()
    {
        Conversation.AtEverySplit(
            [
                S("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
                C("a1 STARTTLS\r\n"), S("a1 OK Begin TLS negotiation now\r\n"),
                C("a2 LOGIN alice secret\r\n"), S("a2 OK LOGIN completed\r\n"),
            ],
            Endpoints.ImapServer, Options(true), h =>
            {
                var tls = Assert.Single(h.Sink.StartTls);
                Assert.Equal(AuthOutcome.Success, tls.Outcome);
                Assert.Equal(AppProtocol.Imap, tls.Protocol);
                Assert.Empty(h.Sink.Auths);
                Assert.Equal(1, h.Counters.TlsUpgrades);
            });
    }

    [Fact]
    public void StartTlsRefusedThenLoginReportsBoth()
    {
        Conversation.AtEverySplit(
            [
                S(Greeting),
                C("a1 STARTTLS\r\n"), S("a1 NO TLS not available\r\n"),
                C("a2 LOGIN alice secret\r\n"), S("a2 OK LOGIN completed\r\n"),
            ],
            Endpoints.ImapServer, Options(false), h =>
            {
                Assert.Equal(AuthOutcome.Failure, Assert.Single(h.Sink.StartTls).Outcome);
                var e = Conversation.SingleAuth(h);
                Conversation.AssertAuth(e, "LOGIN", "alice", null, CredentialExposure.Cleartext, AuthOutcome.Success);
                Assert.Equal(0, h.Counters.TlsUpgrades);
            });
    }

    [Theory]
    [InlineData("a1 APPEND INBOX {4294967295}")]
    [InlineData("a1 APPEND INBOX {4294967295+}")]
    [InlineData("a1 APPEND INBOX ~{999999999999}")]
    [InlineData("a1 LOGIN {4294967295}")]
    [InlineData("a1 LOGIN alice {4294967295}")]
    public void HugeLiteralCountNeitherCrashesNorAllocatesItAndALaterConnectionStillWorks(string command)
    {
        var h = new MailHarness(Options(true));
        long before = GC.GetAllocatedBytesForCurrentThread();

        var first = h.Connect(Endpoints.Client, Endpoints.ImapServer);
        first.ServerSends(Greeting);
        first.ClientSends(command + "\r\n");
        first.ServerSends("+ Ready for literal data\r\n");
        first.ClientSends(new string('z', 3000) + "\r\na2 LOGIN fake pass\r\n");
        first.ServerSends($"* 1 FETCH (BODY[] {{4294967295}}\r\n{new string('q', 2000)}");
        first.FinBoth();

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 * 1024 * 1024, "allocated like the literal's size");
        Assert.Empty(h.Sink.Events);

        var second = h.Connect(Endpoints.At("10.0.0.1", 40001), Endpoints.ImapServer);
        second.ServerSends(Greeting);
        second.ClientSends("b1 LOGIN alice secret\r\n");
        second.ServerSends("b1 OK\r\n");
        second.FinBoth();

        var e = Conversation.SingleAuth(h);
        Conversation.AssertAuth(e, "LOGIN", "alice", "secret", CredentialExposure.Cleartext, AuthOutcome.Success);
        Assert.Equal(Endpoints.At("10.0.0.1", 40001), e.Client);
    }

    [Theory]
    [InlineData("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n", "", true)]
    [InlineData("* OK ready\r\n", "* CAPABILITY IMAP4rev1 SASL-IR STARTTLS\r\na0 OK done\r\n", true)]
    [InlineData("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n", "", false)]
    [InlineData("* OK ready\r\n", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na0 OK done\r\n", false)]
    [InlineData("* OK ready\r\n", "", null)]
    public void AdvertisedStartTlsIsCarriedOnTheAuthEvent(string greeting, string capabilityResponse, bool? offered)
    {
        var steps = new List<Step> { S(greeting) };
        if (capabilityResponse.Length > 0) steps.AddRange([C("a0 CAPABILITY\r\n"), S(capabilityResponse)]);
        steps.AddRange([C("a1 LOGIN alice secret\r\n"), S("a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n")]);

        Conversation.AtEverySplit(steps, Endpoints.ImapServer, Options(false), h =>
            Assert.Equal(offered, Conversation.SingleAuth(h).ServerOffersStartTls));
    }
}
