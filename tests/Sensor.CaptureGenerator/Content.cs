using System.Security.Cryptography;
using System.Text;

namespace Sensor.CaptureGenerator;

/// <summary>Text and credentials: message bodies with decoy protocol lines, user names, passwords, SASL encodings.</summary>
internal static class Content
{
    private static readonly string[] Words =
    [
        "the", "meeting", "report", "quarterly", "budget", "review", "please", "find", "attached", "invoice",
        "schedule", "project", "update", "server", "migration", "weekend", "backup", "customer", "order",
        "shipping", "delayed", "thanks", "regards", "tomorrow", "morning", "call", "agenda", "minutes",
        "contract", "draft", "signed", "approval", "pending", "ticket", "resolved", "network", "outage",
        "maintenance", "window", "password", "reset", "policy", "reminder", "training", "session", "office",
        "closed", "holiday", "lunch", "team", "results", "numbers", "forecast", "sales", "region", "north",
        "south", "launch", "product", "release", "notes", "version", "patch", "deploy", "staging", "login",
        "portal", "access", "request", "granted", "denied", "folder", "shared", "drive", "printer", "floor",
        "building", "parking", "badge", "visitor", "travel", "expense", "receipt", "hotel", "flight", "train",
        "and", "of", "to", "for", "with", "on", "at", "by", "from", "is", "are", "was", "will", "be", "this",
    ];

    private static readonly string[] FirstNames =
    [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
        "olivia", "peggy", "rupert", "sybil", "trent", "uma", "victor", "walter", "xena", "yusuf", "zoe",
        "anna", "bernd", "chloe", "dmitri", "elena", "farid", "giulia", "hans", "ines", "jonas", "kenji",
        "lena", "marco", "nora", "oscar", "paula", "quentin", "rosa", "sven", "tara", "ugo", "vera", "wim",
    ];

    private static readonly string[] Domains = ["example.com", "example.net", "corp.example", "mail.example.org", "uni.example.edu"];

    /// <summary>Lines that look like protocol commands and responses. Inside a FETCH literal or a
    /// RETR body they are message text and must never be taken for logins.</summary>
    private static readonly string[] Decoys =
    [
        "a1 LOGIN victim secret",
        "USER victim",
        "PASS x",
        "a2 AUTHENTICATE PLAIN AHZpY3RpbQBzZWNyZXQ=",
        "AUTH PLAIN AHZpY3RpbQBzZWNyZXQ=",
        "APOP victim c4c9334bac560ecc979e58001b3e22fb",
        "a5 AUTHENTICATE LOGIN",
        "dmljdGlt",
        "c2VjcmV0",
        ". LOGIN victim secret",
        ".USER victim",
        ".PASS x",
        ".",
        "..",
        "...",
        "+OK Logged in.",
        "-ERR [AUTH] Authentication failed.",
        "a1 OK LOGIN completed.",
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.",
        "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready",
        "+OK POP3 ready <1234.5678@decoy.example>",
        "a3 STARTTLS",
        "STLS",
        "a4 LOGIN {6}",
        "+ Ready for literal data",
        "* 1 FETCH (BODY[] {5}",
        ")",
        "",
    ];

    /// <summary>A mail message of exactly <paramref name="size"/> bytes, CRLF lines, with decoy lines.</summary>
    public static byte[] MessageBody(Random rng, int size, int index)
    {
        var sb = new StringBuilder(size + 128);
        string from = User(rng) is var u && u.Contains('@') ? u : $"{u}@{Domains[rng.Next(Domains.Length)]}";
        string to = $"{FirstNames[rng.Next(FirstNames.Length)]}@example.net";
        int mm = rng.Next(60), ss = rng.Next(60);
        sb.Append("Return-Path: <").Append(from).Append(">\r\n");
        sb.Append("Received: from mx1.example.org (mx1.example.org [10.9.0.1])\r\n\tby mail.example.net with LMTP id ")
          .Append(rng.Next(1 << 30).ToString("x8")).Append("\r\n\tfor <").Append(to).Append(">; Thu, 02 Jan 2025 09:")
          .Append(mm.ToString("00")).Append(':').Append(ss.ToString("00")).Append(" +0000\r\n");
        sb.Append("Message-ID: <").Append(index).Append('.').Append(rng.Next(1 << 30)).Append("@example.org>\r\n");
        sb.Append("Date: Thu, 02 Jan 2025 09:").Append(mm.ToString("00")).Append(':').Append(ss.ToString("00")).Append(" +0000\r\n");
        sb.Append("From: ").Append(from).Append("\r\nTo: ").Append(to).Append("\r\n");
        sb.Append("Subject: ").Append(Sentence(rng, 3, 7)).Append("\r\n");
        sb.Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
        if (sb.Length > size - 2) throw new InvalidOperationException("body too small for its headers");

        // The most important decoys first, so that even a 1 KiB body carries them.
        string[] first = ["a1 LOGIN victim secret", "USER victim", "PASS x", ".", "..", ". LOGIN victim secret"];
        int next = 0;
        int untilDecoy = 0;
        while (true)
        {
            string line;
            if (next < first.Length) line = first[next++];
            else if (untilDecoy-- <= 0) { line = Decoys[rng.Next(Decoys.Length)]; untilDecoy = rng.Next(4, 20); }
            else line = Sentence(rng, 5, 14);
            if (sb.Length + line.Length + 2 > size - 2) break;
            sb.Append(line).Append("\r\n");
        }
        int rest = size - sb.Length;
        sb.Append('~', rest - 2).Append("\r\n");
        var bytes = Encoding.ASCII.GetBytes(sb.ToString());
        if (bytes.Length != size) throw new InvalidOperationException("body size");
        return bytes;
    }

    /// <summary>RFC 1939 §3 byte-stuffing: every line that starts with '.' gets one more.</summary>
    public static byte[] DotStuff(byte[] body)
    {
        int extra = 0;
        for (int i = 0; i < body.Length; i++)
            if (body[i] == (byte)'.' && (i == 0 || body[i - 1] == (byte)'\n')) extra++;
        var outp = new byte[body.Length + extra];
        int o = 0;
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] == (byte)'.' && (i == 0 || body[i - 1] == (byte)'\n')) outp[o++] = (byte)'.';
            outp[o++] = body[i];
        }
        return outp;
    }

    public static byte[] WebText(Random rng, int size)
    {
        var sb = new StringBuilder(size + 128);
        while (sb.Length < size) sb.Append(Sentence(rng, 6, 16)).Append(rng.Next(6) == 0 ? "\r\n\r\n" : "\r\n");
        return Encoding.ASCII.GetBytes(sb.ToString(0, size));
    }

    public static string Sentence(Random rng, int min, int max)
    {
        int n = rng.Next(min, max + 1);
        var sb = new StringBuilder(n * 8);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(' ');
            string w = Words[rng.Next(Words.Length)];
            if (i == 0) sb.Append(char.ToUpperInvariant(w[0])).Append(w, 1, w.Length - 1);
            else sb.Append(w);
        }
        sb.Append(rng.Next(5) == 0 ? ',' : '.');
        return sb.ToString();
    }

    /// <summary>A user name: "anna", "anna42", "anna.k@example.com".</summary>
    public static string User(Random rng)
    {
        string name = FirstNames[rng.Next(FirstNames.Length)];
        return rng.Next(4) switch
        {
            0 => name,
            1 => name + rng.Next(1, 999),
            2 => $"{name}@{Domains[rng.Next(Domains.Length)]}",
            _ => $"{name}.{(char)('a' + rng.Next(26))}@{Domains[rng.Next(Domains.Length)]}",
        };
    }

    private const string AtomPasswordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-./:;<=>?@^_|~";
    private const string AnyPasswordChars = AtomPasswordChars + " \"\\(){}%*[]',";

    /// <summary>A password; atomSafe = only IMAP atom characters and no spaces (usable unquoted everywhere).</summary>
    public static string Password(Random rng, bool atomSafe)
    {
        string chars = atomSafe ? AtomPasswordChars : AnyPasswordChars;
        int n = rng.Next(6, 17);
        var c = new char[n];
        for (int i = 0; i < n; i++) c[i] = chars[rng.Next(chars.Length)];
        // No leading/trailing space: POP3 PASS and SASL decoders may trim.
        if (c[0] == ' ') c[0] = 'x';
        if (c[^1] == ' ') c[^1] = 'y';
        return new string(c);
    }

    /// <summary>A wrong password for a failed attempt (a typo of the right one).</summary>
    public static string Typo(Random rng, string password, bool atomSafe) =>
        password[..^1] + (atomSafe ? "1" : "#") + (rng.Next(2) == 0 ? "" : "x");

    public static string B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    /// <summary>IMAP quoted string (RFC 3501 §4.3): quote and backslash escaped.</summary>
    public static string Quoted(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public static string Md5Hex(string s) => Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(s)));

    public static string CramMd5Response(string user, string password, string challenge) =>
        user + " " + Convert.ToHexStringLower(HMACMD5.HashData(Encoding.ASCII.GetBytes(password), Encoding.ASCII.GetBytes(challenge)));

    public static string Token(Random rng, int length)
    {
        const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";
        var c = new char[length];
        for (int i = 0; i < length; i++) c[i] = chars[rng.Next(chars.Length)];
        return new string(c);
    }
}
