using Sensor.Core.Imap;
using Sensor.Core.Smtp;
using Sensor.Core.Text;

namespace Sensor.Core.Detection;

/// <summary>
/// What the first line of each side of a connection says about its protocol. A server line is
/// decisive (greetings, RFC 3501 §7.1.1 / RFC 1939 §4 / RFC 5321 §4.2); a client line is a hint unless
/// it is one of the commands that only these protocols send.
/// </summary>
public static class ProtocolSignatures
{
    public static MailProtocolGuess FromServerLine(ReadOnlySpan<byte> line)
    {
        if (AsciiText.StartsWithIgnoreCase(line, "+OK"u8) || AsciiText.StartsWithIgnoreCase(line, "-ERR"u8))
            return MailProtocolGuess.Pop3;
        if (SmtpGrammar.IsGreeting(line))
            return MailProtocolGuess.Smtp;
        if (line.Length > 2 && line[0] == (byte)'*' && line[1] == (byte)' ')
        {
            var rest = line[2..];
            var word = AsciiText.NextWord(ref rest);
            if (AsciiText.EqualsIgnoreCase(word, "OK"u8) || AsciiText.EqualsIgnoreCase(word, "PREAUTH"u8)
                || AsciiText.EqualsIgnoreCase(word, "BYE"u8) || AsciiText.EqualsIgnoreCase(word, "CAPABILITY"u8)
                || AsciiText.EqualsIgnoreCase(word, "NO"u8) || AsciiText.EqualsIgnoreCase(word, "BAD"u8))
                return MailProtocolGuess.Imap;
            return MailProtocolGuess.NotMail;
        }
        if (ImapGrammar.TryParseTag(line, out _, out var text))
        {
            var status = AsciiText.NextWord(ref text);
            if (AsciiText.EqualsIgnoreCase(status, "OK"u8) || AsciiText.EqualsIgnoreCase(status, "NO"u8) || AsciiText.EqualsIgnoreCase(status, "BAD"u8))
                return MailProtocolGuess.Imap;
        }
        return MailProtocolGuess.NotMail;
    }

    /// <summary>A client line: which protocol's command it is, and whether that alone is decisive.</summary>
    public static MailProtocolGuess FromClientLine(ReadOnlySpan<byte> line, out bool decisive)
    {
        decisive = false;
        var rest = line;
        var first = AsciiText.NextWord(ref rest);
        // EHLO/HELO open every SMTP session (RFC 5321 §4.1.1.1) and no other protocol's.
        if (AsciiText.EqualsIgnoreCase(first, "EHLO"u8) || AsciiText.EqualsIgnoreCase(first, "HELO"u8))
        {
            decisive = true;
            return MailProtocolGuess.Smtp;
        }
        if (IsSmtpTransactionStart(line)) return MailProtocolGuess.Smtp;
        foreach (var k in Pop3Decisive)
            if (AsciiText.EqualsIgnoreCase(first, k)) { decisive = true; return MailProtocolGuess.Pop3; }
        foreach (var k in Pop3Other)
            if (AsciiText.EqualsIgnoreCase(first, k)) return MailProtocolGuess.Pop3;
        if (ImapGrammar.TryParseTag(line, out _, out var afterTag))
        {
            var command = AsciiText.NextWord(ref afterTag);
            foreach (var k in ImapDecisive)
                if (AsciiText.EqualsIgnoreCase(command, k)) { decisive = true; return MailProtocolGuess.Imap; }
            foreach (var k in ImapOther)
                if (AsciiText.EqualsIgnoreCase(command, k)) return MailProtocolGuess.Imap;
        }
        return MailProtocolGuess.NotMail;
    }

    /// <summary>
    /// A reply line on an SMTP port whose greeting was not seen (a capture that began mid-connection):
    /// any well-formed reply (RFC 5321 §4.2) will do there, never on other ports.
    /// </summary>
    public static bool IsSmtpReply(ReadOnlySpan<byte> line) => SmtpGrammar.TryParseReply(line, out _, out _, out _);

    /// <summary>"MAIL FROM:" or "RCPT TO:" (RFC 5321 §4.1.1.2-3): SMTP's, but a hint only, as on a port
    /// that is not SMTP's the first line may be anything.</summary>
    private static bool IsSmtpTransactionStart(ReadOnlySpan<byte> line) =>
        AsciiText.StartsWithIgnoreCase(line, "MAIL FROM:"u8) || AsciiText.StartsWithIgnoreCase(line, "RCPT TO:"u8)
        || AsciiText.EqualsIgnoreCase(AsciiText.TrimSpaces(line), "STARTTLS"u8);

    private static ReadOnlySpan<byte> U(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    // Commands no other common protocol sends as its first line.
    private static readonly byte[][] Pop3Decisive = [.. new[] { "CAPA", "APOP", "STLS" }.Select(s => U(s).ToArray())];
    // Shared with FTP and others (USER, PASS, LIST, QUIT): decisive only on a POP3 port or with a POP3 answer.
    private static readonly byte[][] Pop3Other = [.. new[] { "USER", "PASS", "AUTH", "STAT", "LIST", "RETR", "UIDL", "TOP", "QUIT", "NOOP", "DELE", "RSET" }.Select(s => U(s).ToArray())];
    private static readonly byte[][] ImapDecisive = [.. new[] { "LOGIN", "AUTHENTICATE", "CAPABILITY", "STARTTLS" }.Select(s => U(s).ToArray())];
    private static readonly byte[][] ImapOther = [.. new[] { "NOOP", "LOGOUT", "SELECT", "EXAMINE", "ID", "ENABLE", "LIST", "LSUB", "STATUS", "FETCH", "UID", "APPEND", "IDLE", "NAMESPACE", "SEARCH", "CLOSE", "EXPUNGE", "STORE", "COPY", "MOVE", "CHECK" }.Select(s => U(s).ToArray())];
}
