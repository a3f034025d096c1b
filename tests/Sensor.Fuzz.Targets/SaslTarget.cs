using System.Buffers.Text;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Sasl;

namespace Sensor.Fuzz.Targets;

/// <summary>
/// Target <c>sasl</c>: the SASL exchange and its decoders (SaslExchange, SaslDecoder, NtlmMessage).
/// Input: a byte choosing the mechanism (<see cref="Mechanisms"/>, modulo their count), then chunks
/// (<see cref="ChunkReader"/>): client lines, or server challenges when the direction bit is set. With
/// the flag bit the payload is the decoded message and the harness base64-encodes it, so that AFL
/// can mutate NTLM or SCRAM structures directly; without it the payload is the line as sent
/// (base64, "=", "*", spaces, garbage).
///
/// Checked: no exception; without reveal no secret; revealing changes nothing but the secret;
/// the exposure is the mechanism's, or none/unknown when its secret-bearing message was not seen;
/// no secret is decoded unless it crossed; the exchange keeps its bound on messages; an event built from the result is one line of
/// JSON and of text.
/// </summary>
public static class SaslTarget
{
    public static readonly string[] Mechanisms =
    [
        "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "CRAM-MD5", "DIGEST-MD5", "NTLM",
        "SCRAM-SHA-1", "SCRAM-SHA-256", "EXTERNAL", "X-UNKNOWN-MECH",
    ];

    private static readonly IpEndpoint Client = IpEndpoint.Parse("10.0.0.1", 40000);
    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.0.0.2", 143);

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty) return;
        string mechanism = Mechanisms[input[0] % Mechanisms.Length];
        var exchange = new SaslExchange(mechanism);
        var chunks = new ChunkReader(input[1..]);
        byte[] encoded = [];
        while (chunks.Next(out var chunk))
        {
            var line = chunk.Payload;
            if (chunk.Flag)
            {
                int length = Base64.GetMaxEncodedToUtf8Length(line.Length);
                if (encoded.Length < length) encoded = new byte[length];
                Base64.EncodeToUtf8(line, encoded, out _, out int written);
                line = encoded.AsSpan(0, written);
            }
            if (chunk.FromServer) exchange.AddServerChallenge(line);
            else exchange.AddClientLine(line);
        }
        InvariantViolation.Check(exchange.ClientResponses.Count <= SaslExchange.MaxMessages && exchange.ServerChallenges.Count <= SaslExchange.MaxMessages,
            $"{exchange.ClientResponses.Count} client and {exchange.ServerChallenges.Count} server messages kept, more than {SaslExchange.MaxMessages}");

        var redacted = SaslDecoder.Decode(exchange, revealSecrets: false);
        var revealed = SaslDecoder.Decode(exchange, revealSecrets: true);
        InvariantViolation.Check(redacted.Secret is null, $"{mechanism}: a secret decoded although none was asked for");
        InvariantViolation.Check(redacted.Username == revealed.Username, $"{mechanism}: revealing secrets changed the username");
        // Exposure says what crossed: the mechanism's once its secret-bearing message was seen, else
        // none (the exchange ended first) or unknown (a message could not be read, or bytes were lost).
        var nominal = SaslDecoder.ExposureOf(mechanism);
        InvariantViolation.Check(redacted.Exposure == revealed.Exposure
                                 && (redacted.Exposure == nominal || redacted.Exposure is CredentialExposure.None or CredentialExposure.Unknown),
            $"{mechanism}: exposure {redacted.Exposure}/{revealed.Exposure}, the mechanism's is {nominal}");
        if (revealed.Exposure != nominal || revealed.Exposure == CredentialExposure.None)
            InvariantViolation.Check(revealed.Secret is null, $"{mechanism}: a secret decoded although exposure is {revealed.Exposure}");

        foreach (var credentials in new[] { redacted, revealed })
        {
            EventChecks.FormatsAsOneLine(new AuthAttempt
            {
                TimestampNs = 1_700_000_000_000_000_000L,
                FlowId = "0000000000000000",
                Client = Client,
                Server = Server,
                Protocol = AppProtocol.Imap,
                Mechanism = "AUTH=" + mechanism,
                Username = credentials.Username,
                Secret = credentials.Secret,
                Exposure = credentials.Exposure,
                Outcome = AuthOutcome.Unknown,
            });
        }
    }
}
