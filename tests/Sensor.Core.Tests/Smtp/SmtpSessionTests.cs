using static Sensor.Core.Tests.Support.Step;

namespace Sensor.Core.Tests.Smtp;

/// <summary>
/// SMTP conversations through the whole path, client 10.0.0.1:40000 to submission 10.0.0.2:587, each
/// replayed with every client message (and, where it matters, every server message) cut at every
/// byte, and once more with every byte its own segment.
/// </summary>
public sealed class SmtpSessionTests
{
    private const string Greeting = "220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n";
    private const string Ehlo = "EHLO client.example.org\r\n";
    private const string EhloReply =
        "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n" +
        "250-AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER\r\n250-AUTH=PLAIN LOGIN\r\n" +
        "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n";

    internal static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static AnalysisOptions Options(bool reveal) => new() { RevealSecrets = reveal };

    private static Step[] Opening => [S(Greeting), C(Ehlo), S(EhloReply)];

    /// <summary>Every split of one message, every byte a segment, and the expected single auth event each time.</summary>
    private static void ExpectOneAuth(Step[] steps, bool reveal, string mechanism, string? user, string? secret,
        CredentialExposure exposure, AuthOutcome outcome, bool splitServerToo = true, Ending ending = Ending.Fin)
    {
        void Check(MailHarness h)
        {
            var e = Conversation.SingleAuth(h);
            Conversation.AssertAuth(e, mechanism, user, reveal ? secret : null, exposure, outcome);
            Assert.Equal(AppProtocol.Smtp, e.Protocol);
            Assert.Equal(Endpoints.Client, e.Client);
            Assert.Equal(Endpoints.SmtpServer, e.Server);
            Assert.Equal(1, h.Counters.FlowsSmtp);
            Assert.Equal(0, h.Counters.UnmatchedResponses);
            Assert.Equal(0, h.Counters.MalformedLines);
        }
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(reveal), Check, ending, splitServerToo);
        Check(ByteAtATime(steps, Options(reveal), ending));
    }

    /// <summary>The conversation with every byte of both directions in a segment of its own.</summary>
    internal static MailHarness ByteAtATime(IReadOnlyList<Step> steps, AnalysisOptions options, Ending ending = Ending.Fin,
        IpEndpoint? server = null)
    {
        var h = new MailHarness(options);
        var c = h.Connect(Endpoints.Client, server ?? Endpoints.SmtpServer);
        foreach (var step in steps)
            for (int i = 0; i < step.Bytes.Length; i++)
            {
                if (step.Direction == StreamDirection.ClientToServer) c.ClientSends(step.Bytes.AsSpan(i, 1));
                else c.ServerSends(step.Bytes.AsSpan(i, 1));
            }
        if (ending == Ending.Fin) c.FinBoth();
        else if (ending == Ending.ServerCloses) c.ServerCloses();
        h.Finish();
        return h;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthPlainWithInitialResponseIsReportedOnce(bool reveal) => ExpectOneAuth(
        [.. Opening, C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 2.7.0 Authentication successful\r\n"),
         C("QUIT\r\n"), S("221 2.0.0 Bye\r\n")],
        reveal, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthPlainAfterAnEmptyContinuationIsReportedOnce(bool reveal) => ExpectOneAuth(
        [.. Opening, C("AUTH PLAIN\r\n"), S("334 \r\n"), C(B64("\0alice\0wonderland") + "\r\n"), S("235 2.7.0 Authentication successful\r\n")],
        reveal, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void AuthPlainWithAnAuthorizationIdentityReportsTheAuthenticationIdentity() => ExpectOneAuth(
        [.. Opening, C($"AUTH PLAIN {B64("postmaster\0alice\0wonderland")}\r\n"), S("535 5.7.8 Error: authentication failed\r\n")],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuthLoginWithBothPromptsIsReportedOnce(bool reveal) => ExpectOneAuth(
        [
            .. Opening, C("AUTH LOGIN\r\n"),
            S("334 VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"),
            S("334 UGFzc3dvcmQ6\r\n"), C(B64("wrong") + "\r\n"),
            S("535 5.7.8 Error: authentication failed: authentication failure\r\n"),
        ],
        reveal, "AUTH=LOGIN", "alice", "wrong", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Fact]
    public void AuthLoginWithTheUsernameOnTheAuthLineIsReportedOnce() => ExpectOneAuth(
        [
            .. Opening, C($"AUTH LOGIN {B64("alice")}\r\n"),
            S("334 UGFzc3dvcmQ6\r\n"), C(B64("wonderland") + "\r\n"),
            S("235 2.7.0 Authentication successful\r\n"),
        ],
        true, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void LowerCaseCommandsAreCommands() => ExpectOneAuth(
        [S(Greeting), C("ehlo client\r\n"), S(EhloReply), C($"auth login {B64("alice")}\r\n"),
         S("334 UGFzc3dvcmQ6\r\n"), C(B64("wonderland") + "\r\n"), S("235 ok\r\n"), C("quit\r\n"), S("221 bye\r\n")],
        true, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void CramMd5IsReportedAsHashed() => ExpectOneAuth(
        [
            .. Opening, C("AUTH CRAM-MD5\r\n"),
            S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            C(B64("tim b913a602c7eda7a495b4e6e7334d3890") + "\r\n"),
            S("235 2.7.0 Authentication successful\r\n"),
        ],
        true, "AUTH=CRAM-MD5", "tim", "b913a602c7eda7a495b4e6e7334d3890", CredentialExposure.Hashed, AuthOutcome.Success);

    [Fact]
    public void DigestMd5IsReportedAsHashedWithItsUsername() => ExpectOneAuth(
        [
            .. Opening, C("AUTH DIGEST-MD5\r\n"),
            S("334 " + B64("realm=\"example.org\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,charset=utf-8") + "\r\n"),
            C(B64("charset=utf-8,username=\"alice\",realm=\"example.org\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"smtp/mail.example.org\",response=d388dad90d4bbd760a152321f2143af7,qop=auth") + "\r\n"),
            S("334 " + B64("rspauth=ea40f60335c427b5527b84dbabcdfffd") + "\r\n"), C("\r\n"),
            S("235 2.7.0 Authentication successful\r\n"),
        ],
        true, "AUTH=DIGEST-MD5", "alice", "d388dad90d4bbd760a152321f2143af7", CredentialExposure.Hashed, AuthOutcome.Success);

    [Fact]
    public void ScramSha256IsReportedAsHashedWithTheUsernameFromInside() => ExpectOneAuth(
        [
            .. Opening, C("AUTH SCRAM-SHA-256 " + B64("n,,n=alice,r=rOprNGfwEbeRWgbNEkqO") + "\r\n"),
            S("334 " + B64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") + "\r\n"),
            C(B64("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=") + "\r\n"),
            S("334 " + B64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") + "\r\n"), C("\r\n"),
            S("235 2.7.0 Authentication successful\r\n"),
        ],
        true, "AUTH=SCRAM-SHA-256", "alice", "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", CredentialExposure.Hashed, AuthOutcome.Success);

    [Fact]
    public void Xoauth2WithAnInitialResponseIsACleartextBearerToken() => ExpectOneAuth(
        [.. Opening, C("AUTH XOAUTH2 " + B64("user=alice@example.org\u0001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\u0001\u0001") + "\r\n"),
         S("235 2.7.0 Accepted\r\n")],
        true, "AUTH=XOAUTH2", "alice@example.org", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void Xoauth2RefusedWithAnErrorChallengeIsAFailure() => ExpectOneAuth(
        [
            .. Opening, C("AUTH XOAUTH2\r\n"), S("334 \r\n"),
            C(B64("user=alice@example.org\u0001auth=Bearer expired-token\u0001\u0001") + "\r\n"),
            S("334 " + B64("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}") + "\r\n"),
            C("\r\n"), S("535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 Learn more\r\n"),
        ],
        true, "AUTH=XOAUTH2", "alice@example.org", "expired-token", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OAuthBearerWithAndWithoutAnInitialResponseIsACleartextBearerToken(bool initialResponse)
    {
        var message = B64("n,a=alice@example.org,\u0001host=mail.example.org\u0001port=587\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRh\u0001\u0001");
        Step[] auth = initialResponse
            ? [C($"AUTH OAUTHBEARER {message}\r\n")]
            : [C("AUTH OAUTHBEARER\r\n"), S("334 \r\n"), C(message + "\r\n")];
        ExpectOneAuth([.. Opening, .. auth, S("235 2.7.0 Authentication successful\r\n")],
            true, "AUTH=OAUTHBEARER", "alice@example.org", "vF9dft4qmTc2Nvb3RlckBhdHRh", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void PasswordRefusedWithEncryptionRequiredAfterItCrossedIsCleartextAndAFailure() => ExpectOneAuth(
        [.. Opening, C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("538 5.7.11 Encryption required for requested authentication mechanism\r\n")],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Fact]
    public void AuthRefusedBeforeAnySecretIsAnAttemptWithNothingExposed() => ExpectOneAuth(
        [S(Greeting), C(Ehlo), S("250-mail.example.org\r\n250 PIPELINING\r\n"), C("AUTH LOGIN\r\n"), S("503 5.5.1 Error: authentication not enabled\r\n")],
        true, "AUTH=LOGIN", null, null, CredentialExposure.None, AuthOutcome.Failure);

    [Fact]
    public void AuthLoginRefusedAfterTheUsernameKeepsTheUsernameWithNothingExposed() => ExpectOneAuth(
        [.. Opening, C($"AUTH LOGIN {B64("alice")}\r\n"), S("523 5.7.10 Encryption needed\r\n")],
        true, "AUTH=LOGIN", "alice", null, CredentialExposure.None, AuthOutcome.Failure);

    [Fact]
    public void AuthNeverAnsweredIsUnknown() => ExpectOneAuth(
        [.. Opening, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C(B64("wonderland") + "\r\n")],
        true, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Unknown);

    [Fact]
    public void CancelAfterTheUsernameIsAFailureWithNothingExposed() => ExpectOneAuth(
        [.. Opening, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C(B64("alice") + "\r\n"), S("334 UGFzc3dvcmQ6\r\n"),
         C("*\r\n"), S("501 5.7.0 Authentication aborted\r\n"), C("QUIT\r\n"), S("221 Bye\r\n")],
        true, "AUTH=LOGIN", "alice", null, CredentialExposure.None, AuthOutcome.Failure);

    [Fact]
    public void CancelBeforeAnyResponseIsNoAttempt()
    {
        Step[] steps = [.. Opening, C("AUTH CRAM-MD5\r\n"), S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n"), C("*\r\n"),
            S("501 5.7.0 Authentication aborted\r\n"), C("QUIT\r\n"), S("221 Bye\r\n")];
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(true), h =>
        {
            Assert.Empty(h.Sink.Auths);
            Assert.Equal(1, h.Counters.SaslExchangesAbortedEmpty);
        }, splitServerToo: true);
    }

    [Fact]
    public void RetryingAnotherMechanismIsASecondAttempt()
    {
        Step[] steps =
        [
            .. Opening, C("AUTH SCRAM-SHA-1\r\n"), S("504 5.5.4 Unrecognized authentication type\r\n"),
            C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 2.7.0 Authentication successful\r\n"),
        ];
        void Check(MailHarness h)
        {
            Assert.Equal(2, h.Sink.Auths.Count);
            Conversation.AssertAuth(h.Sink.Auths[0], "AUTH=SCRAM-SHA-1", null, null, CredentialExposure.None, AuthOutcome.Failure);
            Conversation.AssertAuth(h.Sink.Auths[1], "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
        }
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(true), Check, splitServerToo: true);
        Check(ByteAtATime(steps, Options(true)));
    }

    [Fact]
    public void PipelinedEhloAndAuthAreAnsweredInOrder() => ExpectOneAuth(
        [S(Greeting), C($"EHLO x\r\nAUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S(EhloReply + "535 5.7.8 Error: authentication failed\r\n")],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Failure);

    [Fact]
    public void PipelinedTransactionsAfterTheLoginKeepTheOrder() => ExpectOneAuth(
        [
            .. Opening, C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 2.7.0 Authentication successful\r\n"),
            C("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"),
            S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <carol@example.org>: Recipient address rejected\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
            C("Subject: hi\r\n\r\nhello\r\n.\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<dave@example.org>\r\nDATA\r\n"),
            S("250 2.0.0 Ok: queued as 1234\r\n250 2.1.0 Ok\r\n550 5.1.1 <dave@example.org>: Recipient address rejected\r\n554 5.5.1 Error: no valid recipients\r\n"),
            C("RSET\r\nQUIT\r\n"), S("250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"),
        ],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    /// <summary>Lines of a message that look like an AUTH exchange: none may ever be read as one.</summary>
    internal const string TrapBody =
        "From: mallory@example.org\r\nSubject: AUTH PLAIN\r\n\r\n" +
        "AUTH PLAIN AGJvYgBidWlsZGVy\r\n334 \r\nAGJvYgBidWlsZGVy\r\n235 2.7.0 Authentication successful\r\n" +
        "AUTH LOGIN Ym9i\r\n334 UGFzc3dvcmQ6\r\nYnVpbGRlcg==\r\n..\r\n.. AUTH PLAIN AGJvYgBidWlsZGVy\r\n" +
        ".AUTH LOGIN\r\nSTARTTLS\r\n220 go ahead\r\nQUIT\r\n";

    [Fact]
    public void AuthLinesInsideADataBodyGiveNothing()
    {
        Step[] steps =
        [
            .. Opening, C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 2.7.0 Authentication successful\r\n"),
            C("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"),
            S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
            C(TrapBody + ".\r\n"), S("250 2.0.0 Ok: queued as 1234\r\n"),
            C("QUIT\r\n"), S("221 2.0.0 Bye\r\n"),
        ];
        ExpectOneAuth(steps, true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(true), h =>
        {
            Assert.Empty(h.Sink.StartTls);
            Assert.Equal(1, h.Counters.MessageBodiesSkipped);
            Assert.Equal(0, h.Counters.CredentialsUnproven);
        });
    }

    [Fact]
    public void AuthLinesInsideBdatChunksGiveNothingEvenWhenAChunkEndsInsideOne()
    {
        // The first chunk ends in the middle of an AUTH line, the second begins with its rest.
        var body = Encoding.ASCII.GetBytes(TrapBody);
        int cut = TrapBody.IndexOf("AUTH LOGIN Ym9i", StringComparison.Ordinal) + 7;
        var first = Encoding.ASCII.GetString(body, 0, cut);
        var second = Encoding.ASCII.GetString(body, cut, body.Length - cut);
        Step[] steps =
        [
            .. Opening, C($"AUTH LOGIN {B64("alice")}\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C(B64("wonderland") + "\r\n"),
            S("235 2.7.0 Authentication successful\r\n"),
            C("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\n"), S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
            C($"BDAT {first.Length}\r\n{first}BDAT {second.Length} LAST\r\n{second}"),
            S("250 2.0.0 Ok: 100 octets\r\n250 2.0.0 Ok: queued as 1234\r\n"),
            C("QUIT\r\n"), S("221 2.0.0 Bye\r\n"),
        ];
        ExpectOneAuth(steps, true, "AUTH=LOGIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
    }

    [Fact]
    public void DataRefusedLeavesTheClientInCommands() => ExpectOneAuth(
        [
            .. Opening, C("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
            S("250 2.1.0 Ok\r\n554 5.7.1 Relay access denied\r\n554 5.5.1 Error: no valid recipients\r\n"),
            C($"RSET\r\nAUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("250 2.0.0 Ok\r\n235 2.7.0 Authentication successful\r\n"),
        ],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void StartTlsAcceptedEndsTheParsing()
    {
        Step[] steps =
        [
            .. Opening, C("STARTTLS\r\n"), S("220 2.0.0 Ready to start TLS\r\n"),
            // What a client sends into the TLS channel is never cleartext; this is as if it were.
            C($"EHLO x\r\nAUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("250 ok\r\n235 2.7.0 Authentication successful\r\n"),
        ];
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(true), h =>
        {
            var tls = Assert.Single(h.Sink.StartTls);
            Assert.Equal(AuthOutcome.Success, tls.Outcome);
            Assert.Equal(AppProtocol.Smtp, tls.Protocol);
            Assert.Empty(h.Sink.Auths);
            Assert.Equal(1, h.Counters.TlsUpgrades);
        }, splitServerToo: true);
    }

    [Fact]
    public void StartTlsRefusedWith454StaysInCleartext()
    {
        Step[] steps =
        [
            .. Opening, C("STARTTLS\r\n"), S("454 4.7.0 TLS not available due to local problem\r\n"),
            C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 2.7.0 Authentication successful\r\n"),
        ];
        ExpectOneAuth(steps, true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(true),
            h => Assert.Equal(AuthOutcome.Failure, Assert.Single(h.Sink.StartTls).Outcome));
    }

    [Fact]
    public void EhloOfferingStartTlsAndAuthMarksThePosture()
    {
        Step[] steps = [.. Opening, C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 ok\r\n")];
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(false), h =>
        {
            Assert.True(Conversation.SingleAuth(h).ServerOffersStartTls);
            var posture = ((ServerPostureTracker)h.Context.Sink).Servers.Find(Endpoints.SmtpServer, AppProtocol.Smtp)!;
            Assert.True(posture.OffersStartTls);
            Assert.True(posture.AuthBeforeStartTls);
        }, splitServerToo: true);
    }

    [Fact]
    public void LegacyAuthEqualsLineAloneIsAuthOffered()
    {
        Step[] steps = [S(Greeting), C(Ehlo), S("250-mail.example.org\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n"),
            C($"AUTH LOGIN {B64("alice")}\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C(B64("wonderland") + "\r\n"), S("235 ok\r\n")];
        Conversation.AtEverySplit(steps, Endpoints.SmtpServer, Options(false), h =>
        {
            Assert.False(Conversation.SingleAuth(h).ServerOffersStartTls);
            var posture = ((ServerPostureTracker)h.Context.Sink).Servers.Find(Endpoints.SmtpServer, AppProtocol.Smtp)!;
            Assert.False(posture.OffersStartTls);
            Assert.True(posture.AuthBeforeStartTls);
            // The keywords and the legacy AUTH= form's mechanism, from the inventory's fixed set.
            Assert.Equal(MailCapabilities.Auth | MailCapabilities.AuthLogin | MailCapabilities.EightBitMime, posture.Capabilities);
        });
    }

    [Fact]
    public void EhloWithoutAuthBeforeStartTlsIsNotAuthOffered()
    {
        // Postfix with smtpd_tls_auth_only = yes: AUTH appears only after STARTTLS.
        Step[] steps = [S(Greeting), C(Ehlo), S("250-mail.example.org\r\n250-STARTTLS\r\n250 8BITMIME\r\n"), C("QUIT\r\n"), S("221 Bye\r\n")];
        var h = Conversation.Play(steps, Endpoints.SmtpServer, Options(false));
        var posture = ((ServerPostureTracker)h.Context.Sink).Servers.Find(Endpoints.SmtpServer, AppProtocol.Smtp)!;
        Assert.True(posture.OffersStartTls);
        Assert.False(posture.AuthBeforeStartTls);
    }

    [Fact]
    public void AMultiLineGreetingIsOneReply() => ExpectOneAuth(
        [S("220-mail.example.org ESMTP\r\n220-No UCE\r\n220 mail.example.org ESMTP ready\r\n"), C(Ehlo), S(EhloReply),
         C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("235 ok\r\n")],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Success);

    [Fact]
    public void HeloThenAuthWorksToo() => ExpectOneAuth(
        [S(Greeting), C("HELO x\r\n"), S("250 mail.example.org\r\n"), C($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n"), S("535 no\r\n")],
        true, "AUTH=PLAIN", "alice", "wonderland", CredentialExposure.Cleartext, AuthOutcome.Failure);
}
