using Sensor.Core.Text;
using Sensor.Core.Events;

namespace Sensor.Core.Smtp;

/// <summary>
/// The pieces of SMTP syntax (RFC 5321 §4.1, §4.2) the sensor needs: reply lines, command verbs,
/// EHLO keywords, BDAT sizes. Works on raw bytes; strings are made only for event fields.
/// </summary>
public static class SmtpGrammar
{
    /// <summary>
    /// Reply-line = Reply-code [ SP / "-" textstring ] (RFC 5321 §4.2): a three-digit code 2xx-5xx,
    /// then "-" when more lines of the same reply follow, or a space (or nothing) on the last line.
    /// </summary>
    public static bool TryParseReply(ReadOnlySpan<byte> line, out int code, out bool last, out ReadOnlySpan<byte> text)
    {
        code = 0;
        last = true;
        text = default;
        if (line.Length < 3) return false;
        byte a = line[0], b = line[1], c = line[2];
        if (a < '2' || a > '5' || b < '0' || b > '9' || c < '0' || c > '9') return false;
        if (line.Length > 3 && line[3] != (byte)' ' && line[3] != (byte)'-') return false;
        code = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
        last = line.Length == 3 || line[3] == (byte)' ';
        text = line.Length > 4 ? line[4..] : default;
        return true;
    }

    /// <summary>
    /// A greeting that names the protocol: "220" or "554", then a space or "-", with "SMTP" in the text
    /// (RFC 5321 §4.2: "220 foo.com ESMTP Postfix"; §4.3.1 allows 554 for a refusing server). Other
    /// "220" greetings (FTP's) must not be taken for mail.
    /// </summary>
    public static bool IsGreeting(ReadOnlySpan<byte> line)
    {
        if (!TryParseReply(line, out int code, out _, out var text) || (code != 220 && code != 554)) return false;
        for (int i = 0; i + 4 <= text.Length; i++)
            if (AsciiText.StartsWithIgnoreCase(text[i..], "SMTP"u8)) return true;
        return false;
    }

    /// <summary>The verb of a command line and its arguments (after one space).</summary>
    public static ReadOnlySpan<byte> Verb(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> args)
    {
        int sp = line.IndexOf((byte)' ');
        if (sp < 0)
        {
            args = default;
            return line;
        }
        args = line[(sp + 1)..];
        return line[..sp];
    }

    /// <summary>
    /// The verbs of RFC 5321 §4.1.1, CHUNKING (RFC 3030), AUTH (RFC 4954) and STARTTLS (RFC 3207).
    /// A SASL response is base64 and never one of them in practice: as base64 each would decode to
    /// three or more bytes of binary that no mechanism sends.
    /// </summary>
    public static bool IsKnownVerb(ReadOnlySpan<byte> v) =>
        Is(v, "EHLO"u8) || Is(v, "HELO"u8) || Is(v, "MAIL"u8) || Is(v, "RCPT"u8) || Is(v, "DATA"u8)
        || Is(v, "BDAT"u8) || Is(v, "RSET"u8) || Is(v, "VRFY"u8) || Is(v, "EXPN"u8) || Is(v, "HELP"u8)
        || Is(v, "NOOP"u8) || Is(v, "QUIT"u8) || Is(v, "AUTH"u8) || Is(v, "STARTTLS"u8);

    public static bool Is(ReadOnlySpan<byte> word, ReadOnlySpan<byte> upper) => AsciiText.EqualsIgnoreCase(word, upper);

    /// <summary>
    /// "BDAT" SP chunk-size [ SP end-marker ] (RFC 3030 §2); chunk-size is 1*DIGIT. Sizes past 18
    /// digits are refused rather than overflowing.
    /// </summary>
    public static bool TryParseBdat(ReadOnlySpan<byte> args, out long size, out bool last)
    {
        size = 0;
        last = false;
        args = AsciiText.TrimSpaces(args);
        var digits = AsciiText.NextWord(ref args);
        if (digits.IsEmpty || digits.Length > 18) return false;
        foreach (var d in digits)
        {
            if (d < '0' || d > '9') return false;
            size = size * 10 + (d - '0');
        }
        args = AsciiText.TrimSpaces(args);
        if (args.IsEmpty) return true;
        last = Is(args, "LAST"u8);
        return last;
    }

    /// <summary>
    /// One line of an EHLO reply after the first (ehlo-line = ehlo-keyword *( SP / "=" ehlo-param ),
    /// RFC 5321 §4.1.1.1): STARTTLS (RFC 3207 §4) and AUTH, including the "AUTH=" form that old
    /// clients needed (RFC 4954 §3 notes servers advertising both).
    /// </summary>
    public static void ReadEhloLine(ReadOnlySpan<byte> text, ref SmtpExtensions extensions)
    {
        text = AsciiText.TrimSpaces(text);
        int end = 0;
        while (end < text.Length && text[end] != (byte)' ' && text[end] != (byte)'=') end++;
        var keyword = text[..end];
        if (Is(keyword, "STARTTLS"u8)) extensions.StartTls = true;
        else if (Is(keyword, "AUTH"u8))
        {
            extensions.Auth = true;
            extensions.Names |= MailCapabilityNames.Mechanisms(end < text.Length ? text[(end + 1)..] : default);
        }
        extensions.Names |= MailCapabilityNames.Of(keyword);
    }
}

/// <summary>What one EHLO reply advertised.</summary>
public struct SmtpExtensions
{
    public bool StartTls;
    public bool Auth;
    /// <summary>The keywords and AUTH mechanisms from the inventory's fixed set.</summary>
    public MailCapabilities Names;
}

/// <summary>
/// Finds the end of a DATA body, the line "." (&lt;CRLF&gt;.&lt;CRLF&gt;, RFC 5321 §4.1.1.4), across any
/// segmentation, holding no bytes. Dot-stuffed lines ("..x", §4.5.2) are longer than one dot and so
/// never end it. A bare LF ends a line too, as most servers accept.
/// </summary>
public struct DataBodyScanner
{
    private enum At : byte { LineStart, Dot, DotCr, InLine }
    private At _at;

    /// <summary>A body begins at a line start.</summary>
    public void Begin() => _at = At.LineStart;

    /// <summary>Bytes were lost: until the next line end, nothing ends the body.</summary>
    public void Lost() => _at = At.InLine;

    /// <returns>Bytes of <paramref name="data"/> that belong to the body, its end line included; <paramref name="ended"/> when it ended.</returns>
    public int Scan(ReadOnlySpan<byte> data, out bool ended)
    {
        int i = 0;
        while (i < data.Length)
        {
            if (_at == At.InLine)
            {
                int lf = data[i..].IndexOf((byte)'\n');
                if (lf < 0) { ended = false; return data.Length; }
                i += lf + 1;
                _at = At.LineStart;
                continue;
            }
            byte b = data[i++];
            switch (_at)
            {
                case At.LineStart:
                    _at = b == (byte)'.' ? At.Dot : b == (byte)'\n' ? At.LineStart : At.InLine;
                    break;
                case At.Dot:
                    if (b == (byte)'\n') { ended = true; return i; }
                    _at = b == (byte)'\r' ? At.DotCr : At.InLine;
                    break;
                case At.DotCr:
                    if (b == (byte)'\n') { ended = true; return i; }
                    _at = At.InLine;
                    break;
            }
        }
        ended = false;
        return data.Length;
    }
}
