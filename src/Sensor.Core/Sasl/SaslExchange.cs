using System.Buffers.Text;
using Sensor.Core.Text;

namespace Sensor.Core.Sasl;

/// <summary>
/// One SASL authentication exchange (RFC 4422) carried by IMAP AUTHENTICATE (RFC 3501 §6.2.2,
/// SASL-IR RFC 4959), POP3 AUTH (RFC 5034) or SMTP AUTH (RFC 4954): the mechanism and the base64-decoded messages each
/// way. Bounded: a handful of messages of a few KB each is all any mechanism needs.
/// </summary>
public sealed class SaslExchange
{
    public const int MaxMessages = 8;
    public const int MaxMessageBytes = 16 * 1024;

    public SaslExchange(string mechanism) => Mechanism = mechanism;

    /// <summary>Upper-case SASL mechanism name, e.g. "PLAIN".</summary>
    public string Mechanism { get; }
    public List<byte[]> ClientResponses { get; } = new(2);
    public List<byte[]> ServerChallenges { get; } = new(2);
    /// <summary>The client sent "*" (RFC 4422 §3.5 abort).</summary>
    public bool Cancelled { get; private set; }
    /// <summary>A message was not valid base64 or exceeded the bounds.</summary>
    public bool Malformed { get; private set; }
    /// <summary>
    /// Client bytes were lost during the exchange: the messages seen may not be the ones at their
    /// positions (a lost username makes the password the first response), so only messages that
    /// describe themselves can be trusted, and what crossed can no longer be ruled out.
    /// </summary>
    public bool Damaged { get; private set; }

    public void MarkDamaged() => Damaged = true;

    /// <summary>A message could not be read (a line past the length bound): what it carried is unknown.</summary>
    public void MarkMalformed() => Malformed = true;

    /// <summary>Packet time of the client's last line in the exchange: the attempt's time.</summary>
    public long LastClientLineNs { get; set; }

    /// <summary>A client line in the exchange: base64, "=" for an empty initial response (RFC 4959 §3), or "*".</summary>
    public void AddClientLine(ReadOnlySpan<byte> line)
    {
        line = AsciiText.TrimSpaces(line);
        if (line.Length == 1 && line[0] == (byte)'*')
        {
            Cancelled = true;
            return;
        }
        if (line.Length == 1 && line[0] == (byte)'=')
        {
            Add(ClientResponses, []);
            return;
        }
        Add(ClientResponses, DecodeBase64(line));
    }

    /// <summary>The text after "+ " in a server continuation.</summary>
    public void AddServerChallenge(ReadOnlySpan<byte> text) => Add(ServerChallenges, DecodeBase64(AsciiText.TrimSpaces(text)));

    private void Add(List<byte[]> list, byte[]? message)
    {
        if (message is null || list.Count >= MaxMessages) { Malformed = true; return; }
        list.Add(message);
    }

    private static byte[]? DecodeBase64(ReadOnlySpan<byte> b64)
    {
        if (b64.Length > MaxMessageBytes * 4 / 3 + 4) return null;
        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(b64.Length)];
        var status = Base64.DecodeFromUtf8(b64, buffer, out _, out int written);
        return status == System.Buffers.OperationStatus.Done ? buffer.AsSpan(0, written).ToArray() : null;
    }
}
