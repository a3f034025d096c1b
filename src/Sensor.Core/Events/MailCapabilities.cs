using Sensor.Core.Text;

namespace Sensor.Core.Events;

/// <summary>
/// Capabilities a server advertised, from a fixed set: those that say how logins can happen (TLS,
/// SASL mechanisms, cleartext refused) and a few that tell servers apart. A server's list is its own
/// text; a fixed set keeps the inventory and its metrics bounded whatever it sends, and no wire text
/// reaches them. Mechanisms are spelled "AUTH=NAME" for every protocol (IMAP's form, RFC 3501 §6.2.2;
/// POP3 lists them after SASL, RFC 5034 §5; SMTP after AUTH, RFC 4954 §3).
/// </summary>
[Flags]
public enum MailCapabilities : ulong
{
    None = 0,
    StartTls = 1UL << 0,
    Stls = 1UL << 1,
    LoginDisabled = 1UL << 2,
    Imap4Rev1 = 1UL << 3,
    Imap4Rev2 = 1UL << 4,
    SaslIr = 1UL << 5,
    LiteralPlus = 1UL << 6,
    Idle = 1UL << 7,
    User = 1UL << 8,
    Sasl = 1UL << 9,
    Pipelining = 1UL << 10,
    Auth = 1UL << 11,
    Chunking = 1UL << 12,
    EightBitMime = 1UL << 13,
    SmtpUtf8 = 1UL << 14,
    AuthPlain = 1UL << 20,
    AuthLogin = 1UL << 21,
    AuthCramMd5 = 1UL << 22,
    AuthDigestMd5 = 1UL << 23,
    AuthScramSha1 = 1UL << 24,
    AuthScramSha256 = 1UL << 25,
    AuthNtlm = 1UL << 26,
    AuthGssapi = 1UL << 27,
    AuthXoauth2 = 1UL << 28,
    AuthOauthBearer = 1UL << 29,
    AuthExternal = 1UL << 30,
    AuthAnonymous = 1UL << 31,
}

/// <summary>The names of <see cref="MailCapabilities"/> as servers spell them, and the look-ups the grammars use.</summary>
public static class MailCapabilityNames
{
    /// <summary>Every flag with its name, in the order they are written out.</summary>
    public static readonly (MailCapabilities Flag, string Name)[] All =
    [
        (MailCapabilities.StartTls, "STARTTLS"), (MailCapabilities.Stls, "STLS"), (MailCapabilities.LoginDisabled, "LOGINDISABLED"),
        (MailCapabilities.Imap4Rev1, "IMAP4REV1"), (MailCapabilities.Imap4Rev2, "IMAP4REV2"), (MailCapabilities.SaslIr, "SASL-IR"),
        (MailCapabilities.LiteralPlus, "LITERAL+"), (MailCapabilities.Idle, "IDLE"), (MailCapabilities.User, "USER"),
        (MailCapabilities.Sasl, "SASL"), (MailCapabilities.Pipelining, "PIPELINING"), (MailCapabilities.Auth, "AUTH"),
        (MailCapabilities.Chunking, "CHUNKING"), (MailCapabilities.EightBitMime, "8BITMIME"), (MailCapabilities.SmtpUtf8, "SMTPUTF8"),
        (MailCapabilities.AuthPlain, "AUTH=PLAIN"), (MailCapabilities.AuthLogin, "AUTH=LOGIN"), (MailCapabilities.AuthCramMd5, "AUTH=CRAM-MD5"),
        (MailCapabilities.AuthDigestMd5, "AUTH=DIGEST-MD5"), (MailCapabilities.AuthScramSha1, "AUTH=SCRAM-SHA-1"),
        (MailCapabilities.AuthScramSha256, "AUTH=SCRAM-SHA-256"), (MailCapabilities.AuthNtlm, "AUTH=NTLM"), (MailCapabilities.AuthGssapi, "AUTH=GSSAPI"),
        (MailCapabilities.AuthXoauth2, "AUTH=XOAUTH2"), (MailCapabilities.AuthOauthBearer, "AUTH=OAUTHBEARER"),
        (MailCapabilities.AuthExternal, "AUTH=EXTERNAL"), (MailCapabilities.AuthAnonymous, "AUTH=ANONYMOUS"),
    ];

    private static readonly byte[][] Upper = All.Select(a => System.Text.Encoding.ASCII.GetBytes(a.Name)).ToArray();

    /// <summary>
    /// Indexes into <see cref="All"/> by name length: only names of the word's length can match. Every
    /// word of every capability list is looked up, and comparing it with all 27 names cost 2.1 % of a
    /// whole `sensor read` (perf, Native AOT); callgrind figures in docs/performance.md.
    /// </summary>
    private static readonly int[][] ByLength = BuildByLength();

    private static int[][] BuildByLength()
    {
        var byLength = new int[Upper.Max(u => u.Length) + 1][];
        for (int length = 0; length < byLength.Length; length++)
            byLength[length] = Enumerable.Range(0, Upper.Length).Where(i => Upper[i].Length == length).ToArray();
        return byLength;
    }

    /// <summary>A capability word ("IDLE", "AUTH=PLAIN"), any case; None when outside the set. Allocates nothing.</summary>
    public static MailCapabilities Of(ReadOnlySpan<byte> word)
    {
        if (word.Length >= ByLength.Length) return MailCapabilities.None;
        foreach (int i in ByLength[word.Length])
            if (AsciiText.EqualsIgnoreCase(word, Upper[i])) return All[i].Flag;
        return MailCapabilities.None;
    }

    /// <summary>A bare SASL mechanism name ("PLAIN", after POP3 SASL or SMTP AUTH); None when outside the set.</summary>
    public static MailCapabilities Mechanism(ReadOnlySpan<byte> name)
    {
        if (name.Length >= ByLength.Length - 5) return MailCapabilities.None;
        foreach (int i in ByLength[name.Length + 5])
        {
            var u = Upper[i];
            if (u.AsSpan(0, 5).SequenceEqual("AUTH="u8) && AsciiText.EqualsIgnoreCase(name, u.AsSpan(5)))
                return All[i].Flag;
        }
        return MailCapabilities.None;
    }

    /// <summary>Every mechanism in a space-separated list.</summary>
    public static MailCapabilities Mechanisms(ReadOnlySpan<byte> list)
    {
        var found = MailCapabilities.None;
        while (!list.IsEmpty)
        {
            var word = AsciiText.NextWord(ref list);
            if (!word.IsEmpty) found |= Mechanism(word);
        }
        return found;
    }

    public static IEnumerable<string> Names(MailCapabilities set)
    {
        foreach (var (flag, name) in All)
            if ((set & flag) != 0) yield return name;
    }
}
