using System.Buffers.Binary;
using Sensor.Core.Sasl;

namespace Sensor.Core.Tests.Sasl;

/// <summary>Identity and secret read out of each SASL mechanism's messages.</summary>
public sealed class SaslDecoderTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static SaslExchange Exchange(string mechanism, params string[] clientLines)
    {
        var x = new SaslExchange(mechanism);
        foreach (var line in clientLines) x.AddClientLine(Encoding.ASCII.GetBytes(line));
        return x;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PlainWithAuthzidReportsTheAuthenticationIdentity(bool reveal)
    {
        var x = Exchange("PLAIN", B64("admin\0alice\0s3cr3t"));
        var c = SaslDecoder.Decode(x, reveal);
        Assert.Equal(new SaslCredentials("alice", reveal ? "s3cr3t" : null, CredentialExposure.Cleartext), c);
        Assert.False(x.Malformed);
    }

    [Fact]
    public void PlainWithoutAuthcidFallsBackToTheAuthzid()
    {
        var c = SaslDecoder.Decode(Exchange("PLAIN", B64("alice\0\0pw")), true);
        Assert.Equal("alice", c.Username);
    }

    [Fact]
    public void PlainWithTheWrongNumberOfFieldsYieldsNoIdentity()
    {
        var c = SaslDecoder.Decode(Exchange("PLAIN", B64("alice\0pw")), true);
        Assert.Null(c.Username);
        Assert.Null(c.Secret);
    }

    [Fact]
    public void LoginReportsUsernameThenPassword()
    {
        var c = SaslDecoder.Decode(Exchange("LOGIN", B64("alice@example.com"), B64("pa ss")), true);
        Assert.Equal(new SaslCredentials("alice@example.com", "pa ss", CredentialExposure.Cleartext), c);
    }

    [Fact]
    public void Xoauth2ReportsUserAndBearerToken()
    {
        var c = SaslDecoder.Decode(Exchange("XOAUTH2", B64("user=someuser@example.com\u0001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\u0001\u0001")), true);
        Assert.Equal(new SaslCredentials("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", CredentialExposure.Cleartext), c);
    }

    [Fact]
    public void OauthbearerUnescapesCommaAndEqualsInTheAuthzid()
    {
        var c = SaslDecoder.Decode(Exchange("OAUTHBEARER",
            B64("n,a=us=2Cer=3Dx@example.com,\u0001host=server.example.com\u0001port=143\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\u0001\u0001")), true);
        Assert.Equal(new SaslCredentials("us,er=x@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", CredentialExposure.Cleartext), c);
    }

    [Fact]
    public void OauthbearerHidesTheTokenUnlessAskedToReveal()
    {
        var c = SaslDecoder.Decode(Exchange("OAUTHBEARER", B64("n,a=user@example.com,\u0001auth=Bearer tok\u0001\u0001")), false);
        Assert.Equal(new SaslCredentials("user@example.com", null, CredentialExposure.Cleartext), c);
    }

    [Fact]
    public void CramMd5ReportsUserAndDigest()
    {
        var c = SaslDecoder.Decode(Exchange("CRAM-MD5", B64("tim b913a602c7eda7a495b4e6e7334d3890")), true);
        Assert.Equal(new SaslCredentials("tim", "b913a602c7eda7a495b4e6e7334d3890", CredentialExposure.Hashed), c);
    }

    [Fact]
    public void CramMd5UserMayContainSpaces()
    {
        var c = SaslDecoder.Decode(Exchange("CRAM-MD5", B64("tim smith b913a602c7eda7a495b4e6e7334d3890")), true);
        Assert.Equal("tim smith", c.Username);
    }

    [Fact]
    public void DigestMd5UnescapesAQuotedUsername()
    {
        const string response =
            "charset=utf-8,username=\"ch\\\"ris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",nc=00000001," +
            "cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth";
        var x = new SaslExchange("DIGEST-MD5");
        x.AddClientLine(Encoding.ASCII.GetBytes(B64(response)));
        x.AddClientLine(""u8); // the empty response to rspauth
        var c = SaslDecoder.Decode(x, true);
        Assert.Equal(new SaslCredentials("ch\"ris", "d388dad90d4bbd760a152321f2143af7", CredentialExposure.Hashed), c);
    }

    [Fact]
    public void ScramSha256UnescapesTheSaslnameAndReportsTheProof()
    {
        var c = SaslDecoder.Decode(Exchange("SCRAM-SHA-256",
            B64("n,,n=us=3Der=2Cname,r=rOprNGfwEbeRWgbNEkqO"),
            B64("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")), true);
        Assert.Equal(new SaslCredentials("us=er,name", "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", CredentialExposure.Hashed), c);
    }

    [Fact]
    public void ScramWithAnAuthzidStillReportsTheAuthenticationName()
    {
        var c = SaslDecoder.Decode(Exchange("SCRAM-SHA-1", B64("n,a=admin,n=user,r=fyko+d2lbbFgONRv9qkxdawL"),
            B64("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")), false);
        Assert.Equal(new SaslCredentials("user", null, CredentialExposure.Hashed), c);
    }

    [Fact]
    public void ScramEndedBeforeTheProofExposedNothing()
    {
        // client-first-message only (RFC 5802 §3): the server refused before the proof crossed.
        var c = SaslDecoder.Decode(Exchange("SCRAM-SHA-1", B64("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")), false);
        Assert.Equal(new SaslCredentials("user", null, CredentialExposure.None), c);
    }

    [Fact]
    public void SaslLoginEndedAfterTheUsernameExposedNoPassword()
    {
        var c = SaslDecoder.Decode(Exchange("LOGIN", B64("alice")), false);
        Assert.Equal(new SaslCredentials("alice", null, CredentialExposure.None), c);
    }

    [Fact]
    public void SaslLoginWithLostClientBytesGivesNoUsernameItCannotPlace()
    {
        // The username's line may be the one that was lost: the first message seen could be the password.
        var x = Exchange("LOGIN", B64("hunter2"));
        x.MarkDamaged();
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.Unknown), SaslDecoder.Decode(x, true));
        x.AddClientLine(Encoding.ASCII.GetBytes(B64("more")));
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.Cleartext), SaslDecoder.Decode(x, true));
    }

    [Fact]
    public void PlainRefusedBeforeAnyResponseExposedNothing()
    {
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.None), SaslDecoder.Decode(Exchange("PLAIN"), true));
        var lost = Exchange("PLAIN");
        lost.MarkDamaged();
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.Unknown), SaslDecoder.Decode(lost, true));
    }

    [Fact]
    public void NtlmAuthenticateMessageReportsDomainAndUserInUtf16()
    {
        var nt = Enumerable.Range(1, 24).Select(i => (byte)i).ToArray();
        var message = NtlmAuthenticate("CORP", "alice", "WS01", nt, unicode: true);
        var x = new SaslExchange("NTLM");
        x.AddClientLine(Encoding.ASCII.GetBytes(Convert.ToBase64String(NtlmNegotiate())));
        x.AddClientLine(Encoding.ASCII.GetBytes(Convert.ToBase64String(message)));

        var c = SaslDecoder.Decode(x, true);

        Assert.Equal(new SaslCredentials("CORP\\alice", Convert.ToHexStringLower(nt), CredentialExposure.Hashed), c);
        Assert.True(NtlmMessage.TryReadAuthenticate(message, out var domain, out var user, out var response));
        Assert.Equal(("CORP", "alice"), (domain, user));
        Assert.Equal(nt, response);
    }

    [Fact]
    public void NtlmAuthenticateMessageInOemEncodingIsReadAsLatin1()
    {
        var message = NtlmAuthenticate("CORP", "j\u00fcrgen", "WS01", new byte[24], unicode: false);
        Assert.True(NtlmMessage.TryReadAuthenticate(message, out var domain, out var user, out _));
        Assert.Equal(("CORP", "j\u00fcrgen"), (domain, user));
    }

    [Fact]
    public void NtlmFieldPointingOutsideTheMessageIsRejectedWithoutException()
    {
        var message = NtlmAuthenticate("CORP", "alice", "WS01", new byte[24], unicode: true);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(36 + 4), (uint)message.Length - 2); // user runs off the end
        Assert.False(NtlmMessage.TryReadAuthenticate(message, out _, out _, out _));
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(36 + 4), uint.MaxValue);
        Assert.False(NtlmMessage.TryReadAuthenticate(message, out _, out _, out _));
        Assert.False(NtlmMessage.TryReadAuthenticate(message[..40], out _, out _, out _));

        var x = new SaslExchange("NTLM");
        x.AddClientLine(Encoding.ASCII.GetBytes(Convert.ToBase64String(message)));
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.Hashed), SaslDecoder.Decode(x, true));
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("YWxpY2U")]        // missing padding
    [InlineData("AGFsaWNlAHNlY3JldA==garbage")]
    public void InvalidBase64MarksTheExchangeMalformedWithoutException(string line)
    {
        var x = new SaslExchange("PLAIN");
        x.AddClientLine(Encoding.ASCII.GetBytes(line));
        Assert.True(x.Malformed);
        Assert.Empty(x.ClientResponses);
        // Something crossed that could not be read: it may have been the password.
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.Unknown), SaslDecoder.Decode(x, true));
    }

    [Fact]
    public void StarCancelsAndEqualsIsAnEmptyResponse()
    {
        var x = new SaslExchange("EXTERNAL");
        x.AddClientLine("="u8);
        Assert.Single(x.ClientResponses);
        Assert.Empty(x.ClientResponses[0]);
        Assert.False(x.Cancelled);
        x.AddClientLine(" * "u8);
        Assert.True(x.Cancelled);
        Assert.Equal(new SaslCredentials(null, null, CredentialExposure.None), SaslDecoder.Decode(x, true));
    }

    [Fact]
    public void MoreMessagesThanTheBoundAreDroppedAndMarkedMalformed()
    {
        var x = new SaslExchange("LOGIN");
        for (int i = 0; i < SaslExchange.MaxMessages + 3; i++) x.AddClientLine(Encoding.ASCII.GetBytes(B64($"m{i}")));
        Assert.Equal(SaslExchange.MaxMessages, x.ClientResponses.Count);
        Assert.True(x.Malformed);
    }

    [Theory]
    [InlineData("PLAIN", CredentialExposure.Cleartext)]
    [InlineData("LOGIN", CredentialExposure.Cleartext)]
    [InlineData("XOAUTH2", CredentialExposure.Cleartext)]
    [InlineData("OAUTHBEARER", CredentialExposure.Cleartext)]
    [InlineData("XOAUTH", CredentialExposure.Cleartext)]
    [InlineData("CRAM-MD5", CredentialExposure.Hashed)]
    [InlineData("DIGEST-MD5", CredentialExposure.Hashed)]
    [InlineData("NTLM", CredentialExposure.Hashed)]
    [InlineData("APOP", CredentialExposure.Hashed)]
    [InlineData("SCRAM-SHA-1", CredentialExposure.Hashed)]
    [InlineData("SCRAM-SHA-256", CredentialExposure.Hashed)]
    [InlineData("SCRAM-SHA-256-PLUS", CredentialExposure.Hashed)]
    [InlineData("EXTERNAL", CredentialExposure.None)]
    [InlineData("ANONYMOUS", CredentialExposure.None)]
    [InlineData("GSSAPI", CredentialExposure.None)]
    [InlineData("GS2-KRB5", CredentialExposure.None)]
    [InlineData("X-UNHEARD-OF", CredentialExposure.Unknown)]
    public void ExposureOfEachMechanismFamily(string mechanism, CredentialExposure expected) =>
        Assert.Equal(expected, SaslDecoder.ExposureOf(mechanism));

    // ---- NTLM messages built by hand ([MS-NLMP] §2.2.1) ---------------------------------------------

    private static byte[] NtlmNegotiate()
    {
        var m = new byte[32];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), 0x00088207);
        return m;
    }

    private static byte[] NtlmAuthenticate(string domain, string user, string workstation, byte[] ntResponse, bool unicode)
    {
        var enc = unicode ? Encoding.Unicode : Encoding.Latin1;
        byte[] lm = new byte[24], dom = enc.GetBytes(domain), usr = enc.GetBytes(user), ws = enc.GetBytes(workstation);
        var payload = new List<byte>();
        var m = new byte[64];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 3);
        void Field(int at, byte[] value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(at), (ushort)value.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(at + 2), (ushort)value.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(at + 4), (uint)(64 + payload.Count));
            payload.AddRange(value);
        }
        Field(12, lm);
        Field(20, ntResponse);
        Field(28, dom);
        Field(36, usr);
        Field(44, ws);
        Field(52, []);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(60), (unicode ? 0x00000001u : 0x00000002u) | 0x00000200u | 0x00080000u);
        return [.. m, .. payload];
    }
}
