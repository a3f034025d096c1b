using System.Text;
using Sensor.Core.Text;
using Sensor.Core.Events;

namespace Sensor.Core.Imap;

/// <summary>
/// The pieces of IMAP4rev1/rev2 syntax (RFC 3501 §9, RFC 9051 §9) the sensor needs: tags, atoms,
/// quoted strings with escapes, and literals ({n} synchronizing, {n+} non-synchronizing per RFC 7888,
/// ~{n} literal8 per RFC 3516). Works on raw bytes; strings are made only for event fields.
/// </summary>
public static class ImapGrammar
{
    /// <summary>tag = 1*&lt;any ASTRING-CHAR except "+"&gt; (RFC 3501 §9).</summary>
    public static bool IsTagChar(byte c) =>
        c > 0x20 && c < 0x7F && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' && c != '"' && c != '\\' && c != '+';

    /// <summary>Splits "tag SP rest". False when the line does not start with a valid tag and a space.</summary>
    public static bool TryParseTag(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> tag, out ReadOnlySpan<byte> rest)
    {
        int i = 0;
        while (i < line.Length && IsTagChar(line[i])) i++;
        if (i == 0 || i >= line.Length || line[i] != (byte)' ')
        {
            tag = rest = default;
            return false;
        }
        tag = line[..i];
        rest = line[(i + 1)..];
        return true;
    }

    /// <summary>
    /// Whether the line ends in a literal announcement, "{n}", "{n+}" or "~{n}" (RFC 3501 §4.3,
    /// RFC 7888). Counts beyond 32 bits are reported as such (the caller skips by length, bounded by
    /// its own limits); a malformed brace group is not a literal.
    /// </summary>
    public static bool EndsWithLiteral(ReadOnlySpan<byte> line, out long length)
    {
        length = 0;
        if (line.Length < 3 || line[^1] != (byte)'}') return false;
        int close = line.Length - 1;
        int open = line[..close].LastIndexOf((byte)'{');
        if (open < 0) return false;
        var digits = line[(open + 1)..close];
        if (!digits.IsEmpty && digits[^1] == (byte)'+') digits = digits[..^1];
        if (digits.IsEmpty || digits.Length > 12) return false;
        long n = 0;
        foreach (var d in digits)
        {
            if (d < '0' || d > '9') return false;
            n = n * 10 + (d - '0');
        }
        length = n;
        return true;
    }

    /// <summary>
    /// Reads one astring (atom, quoted string or literal, RFC 3501 §9) from a command held as it was
    /// on the wire, literals inline ("{5}\r\nalice"). Leaves <paramref name="s"/> after it and a
    /// following space. False when the input does not hold a complete astring.
    /// </summary>
    public static bool TryReadAString(ref ReadOnlySpan<byte> s, out string value)
    {
        value = "";
        if (s.IsEmpty) return false;
        if (s[0] == (byte)'"')
        {
            var sb = new StringBuilder();
            var raw = new List<byte>(s.Length);
            int i = 1;
            for (; i < s.Length; i++)
            {
                byte c = s[i];
                if (c == (byte)'\\' && i + 1 < s.Length) { raw.Add(s[++i]); continue; }
                if (c == (byte)'"') break;
                raw.Add(c);
            }
            if (i >= s.Length) return false;
            value = Encoding.UTF8.GetString(raw.ToArray());
            s = SkipOneSpace(s[(i + 1)..]);
            return true;
        }
        if (s[0] == (byte)'{' || (s[0] == (byte)'~' && s.Length > 1 && s[1] == (byte)'{'))
        {
            int close = s.IndexOf((byte)'}');
            if (close < 0) return false;
            if (!EndsWithLiteral(s[..(close + 1)].TrimStart((byte)'~'), out long n)) return false;
            var after = s[(close + 1)..];
            if (after.Length >= 2 && after[0] == (byte)'\r' && after[1] == (byte)'\n') after = after[2..];
            else if (!after.IsEmpty && after[0] == (byte)'\n') after = after[1..];
            else return false;
            if (n > after.Length) return false;
            value = AsciiText.Decode(after[..(int)n]);
            s = SkipOneSpace(after[(int)n..]);
            return true;
        }
        int end = 0;
        while (end < s.Length && s[end] != (byte)' ' && s[end] != (byte)'\r' && s[end] != (byte)'\n') end++;
        if (end == 0) return false;
        value = AsciiText.Decode(s[..end]);
        s = SkipOneSpace(s[end..]);
        return true;
    }

    private static ReadOnlySpan<byte> SkipOneSpace(ReadOnlySpan<byte> s) =>
        !s.IsEmpty && s[0] == (byte)' ' ? s[1..] : s;

    /// <summary>
    /// Capability tokens after "CAPABILITY" in an untagged CAPABILITY response or a [CAPABILITY ...]
    /// response code (RFC 3501 §7.2.1, §7.1).
    /// </summary>
    public static void ReadCapabilities(ReadOnlySpan<byte> list, ref ImapCapabilities caps)
    {
        caps.Seen = true;
        caps.StartTls = false;
        caps.LoginDisabled = false;
        caps.Names = MailCapabilities.None;
        while (!list.IsEmpty)
        {
            var word = AsciiText.NextWord(ref list);
            if (!word.IsEmpty && word[^1] == (byte)']') word = word[..^1];
            if (AsciiText.EqualsIgnoreCase(word, "STARTTLS"u8)) caps.StartTls = true;
            else if (AsciiText.EqualsIgnoreCase(word, "LOGINDISABLED"u8)) caps.LoginDisabled = true;
            caps.Names |= MailCapabilityNames.Of(word);
        }
    }

    /// <summary>Finds "[CAPABILITY ...]" in a status response's text and reads it.</summary>
    public static void ReadCapabilityCode(ReadOnlySpan<byte> text, ref ImapCapabilities caps)
    {
        text = AsciiText.TrimSpaces(text);
        if (text.IsEmpty || text[0] != (byte)'[') return;
        var inner = text[1..];
        if (!AsciiText.StartsWithIgnoreCase(inner, "CAPABILITY "u8)) return;
        int close = inner.IndexOf((byte)']');
        ReadCapabilities(close < 0 ? inner[11..] : inner[11..close], ref caps);
    }
}

/// <summary>What the server advertised, as far as this connection showed it.</summary>
public struct ImapCapabilities
{
    public bool Seen;
    public bool StartTls;
    public bool LoginDisabled;
    /// <summary>The list's words from the inventory's fixed set.</summary>
    public MailCapabilities Names;
}
