using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Summary;

namespace Sensor.Integration.Tests.EventLog;

/// <summary>
/// Attacker text stays data in every event writer: a username, mechanism name or revealed secret
/// cannot forge a finding line, drive the terminal, reorder what is shown or pass for another
/// field, and each output parses back to exactly what was sent.
/// </summary>
public sealed class WireTextTests
{
    private const string ForgedLine =
        "alice\r\n2025-01-02T10:00:00.000000Z  IMAP  login  LOGIN          cleartext  success  user=root  10.6.6.6:4444 -> 10.0.0.2:143  secret=[redacted]";
    private const string Escapes = "\u001b[2J\u001b[H\u001b]0;owned\u0007\u007f\u009b31mroot";
    private const string Bidi = "\u202eadmin\u202c\u2066x\u2069\u2028y\u2029\u200b";

    /// <summary>Every character the brief of this sensor says must never reach an output as itself.</summary>
    private static readonly int[] MustBeEscaped =
    [
        .. Enumerable.Range(0, 0x20), 0x7F, .. Enumerable.Range(0x80, 0x20),
        0x2028, 0x2029, .. Enumerable.Range(0x202A, 5), .. Enumerable.Range(0x2066, 4),
        0x200B, 0x200E, 0x200F, 0x061C, 0xFEFF, 0x00A0, 0xE0041,
    ];

    private static AuthAttempt Auth(string? user, string mechanism = "LOGIN", string? secret = null) => new()
    {
        TimestampNs = 1_735_812_000_000_000_000,
        FlowId = "0123456789abcdef",
        Client = IpEndpoint.Parse("10.0.0.1", 50601),
        Server = IpEndpoint.Parse("10.0.0.2", 143),
        Protocol = AppProtocol.Imap,
        Mechanism = mechanism,
        Username = user,
        Secret = secret,
        Exposure = CredentialExposure.Cleartext,
        Outcome = AuthOutcome.Failure,
    };

    [Fact]
    public void AUsernameHoldingALineBreakAndAForgedFindingStaysOneLine()
    {
        var line = TextEventFormatter.Format(Auth(ForgedLine));

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Contains(@"user=""alice\r\n2025-01-02T10:00:00.000000Z  IMAP  login", line);
        var f = TextLine.Parse(line);
        Assert.Equal(ForgedLine, f.User);
        Assert.Equal("10.0.0.1:50601", f.Client);
    }

    [Fact]
    public void EscapeSequencesNeverReachTheTerminal()
    {
        var line = TextEventFormatter.Format(Auth(Escapes, mechanism: "AUTH=X-EVIL\u001b[31M"));

        AssertNothingUnsafe(line);
        Assert.Contains(@"\e[2J\e[H\e]0;owned\x07\x7f\x9b31mroot", line);
        var f = TextLine.Parse(line);
        Assert.Equal(Escapes, f.User);
        Assert.Equal("AUTH=X-EVIL\u001b[31M", f.Mechanism);
    }

    [Fact]
    public void BidiOverridesIsolatesAndSeparatorsAreEscaped()
    {
        var line = TextEventFormatter.Format(Auth(Bidi));

        AssertNothingUnsafe(line);
        Assert.Contains(@"user=""\u202eadmin\u202c\u2066x\u2069\u2028y\u2029\u200b""", line);
        Assert.Equal(Bidi, TextLine.Parse(line).User);
    }

    [Fact]
    public void EveryCharacterThatMustBeEscapedIsEscapedInTextAndInJson()
    {
        foreach (int cp in MustBeEscaped)
        {
            var user = "a" + char.ConvertFromUtf32(cp) + "b";
            var e = Auth(user, mechanism: "AUTH=" + user, secret: user);
            var line = TextEventFormatter.Format(e);
            AssertNothingUnsafe(line);
            var f = TextLine.Parse(line);
            Assert.Equal(user, f.User);
            Assert.Equal("AUTH=" + user, f.Mechanism);
            Assert.Equal(user, f.Secret);

            var json = JsonEventFormatter.ToJson(e);
            AssertNothingUnsafe(json);
            var auth = JsonNode.Parse(json)!["auth"]!;
            Assert.Equal(user, (string?)auth["username"]);
            Assert.Equal("AUTH=" + user, (string?)auth["mechanism"]);
            Assert.Equal(user, (string?)auth["secret"]);
        }
    }

    [Fact]
    public void SpacesOrUserEqualsInAUsernameCannotFakeAnotherField()
    {
        const string user = "bob  user=root  secret=[redacted]";
        var line = TextEventFormatter.Format(Auth(user));

        var fields = TextLine.Tokens(line);
        Assert.Single(fields, t => t.StartsWith("user=", StringComparison.Ordinal));
        Assert.Single(fields, t => t.StartsWith("secret=", StringComparison.Ordinal));
        Assert.Equal(user, TextLine.Parse(line).User);
        Assert.Equal("[redacted]", TextLine.Parse(line).Secret);
    }

    [Fact]
    public void TheSensorsOwnWordsAreNotConfusedWithRealValues()
    {
        Assert.Contains("user=(unknown) ", TextEventFormatter.Format(Auth(null)));
        Assert.Contains(@"user=""(unknown)"" ", TextEventFormatter.Format(Auth("(unknown)")));
        Assert.Contains("secret=[redacted]", TextEventFormatter.Format(Auth("a")));
        Assert.EndsWith(@"secret=""[redacted]""", TextEventFormatter.Format(Auth("a", secret: "[redacted]")));
        Assert.Contains(@"user="""" ", TextEventFormatter.Format(Auth("")));
        Assert.Contains(@"user=""back\\slash"" ", TextEventFormatter.Format(Auth(@"back\slash")));
        Assert.Contains(@"user=""q\""uote"" ", TextEventFormatter.Format(Auth("q\"uote")));
    }

    [Fact]
    public void PlainUsernamesStayBareAndOtherScriptsStayReadable()
    {
        Assert.Contains("user=digitalinvestigator@networksims.com  ", TextEventFormatter.Format(Auth("digitalinvestigator@networksims.com")));
        Assert.Contains("login  AUTH=PLAIN ", TextEventFormatter.Format(Auth("a", mechanism: "AUTH=PLAIN")));
        Assert.Contains(@"user=""josé"" ", TextEventFormatter.Format(Auth("josé")));
        Assert.Contains(@"user=""用户"" ", TextEventFormatter.Format(Auth("用户")));
        Assert.Contains(@"user=""CORP\\dave"" ", TextEventFormatter.Format(Auth(@"CORP\dave")));
    }

    [Fact]
    public void TwoThousandRandomHostileValuesParseBackExactlyFromTextAndJson()
    {
        var rng = new Random(20261130);
        string[] pieces = ["\r", "\n", "\u001b", "\u001b[31m", "\u0000", "\u007f", "\u0085", "\u009b", "\u2028", "\u2029",
            "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff", "\u00a0", " ", "  ", "\"", "\\", "\\\"", "user=", "secret=",
            "(unknown)", "[redacted]", "->", "a", "Z", "é", "用", "\U0001F600", "\U000E0041", "\ud800", "\udc00", "=", "\t"];
        for (int i = 0; i < 2_000; i++)
        {
            string Value() => string.Concat(Enumerable.Range(0, rng.Next(0, 8)).Select(_ => pieces[rng.Next(pieces.Length)]));
            string user = Value(), mechanism = "AUTH=" + Value(), secret = Value();
            var e = Auth(user, mechanism, secret);

            var line = TextEventFormatter.Format(e);
            AssertNothingUnsafe(line);
            var f = TextLine.Parse(line);
            Assert.Equal((user, mechanism, secret), (f.User, f.Mechanism, f.Secret));

            // JSON: a lone surrogate cannot travel in UTF-8 and becomes U+FFFD, as any UTF-8 encoder makes it.
            var json = JsonEventFormatter.ToJson(e);
            AssertNothingUnsafe(json);
            using var doc = JsonDocument.Parse(json);
            var auth = doc.RootElement.GetProperty("auth");
            Assert.Equal(Utf8RoundTrip(user), auth.GetProperty("username").GetString());
            Assert.Equal(Utf8RoundTrip(mechanism), auth.GetProperty("mechanism").GetString());
            Assert.Equal(Utf8RoundTrip(secret), auth.GetProperty("secret").GetString());
        }
    }

    [Fact]
    public void TheGuessingAlertLineEscapesItsUsernameToo()
    {
        var line = TextEventFormatter.Format(new PasswordGuessing
        {
            TimestampNs = 1, FlowId = "f", Client = IpEndpoint.Parse("10.0.0.1", 1), Server = IpEndpoint.Parse("10.0.0.2", 143),
            Protocol = AppProtocol.Imap, Kind = GuessingKind.Guessing, Failures = 10, DistinctUsernames = 1,
            Username = ForgedLine, WindowSeconds = 300,
        });
        AssertNothingUnsafe(line);
        Assert.Contains(@"against user=""alice\r\n2025", line);
    }

    [Fact]
    public void TheReadableWriterEscapesACaptureFileName()
    {
        var ms = new MemoryEventOutput();
        var writer = new EventWriter(ms, json: false, "sensor-1", Serilog.Core.Logger.None) { CaptureFile = "evil\u001b[2J\n== x.pcap" };
        writer.Emit(Auth("alice"));
        var text = Encoding.UTF8.GetString(ms.ToArray());
        Assert.StartsWith(@"== evil\e[2J\n== x.pcap" + "\n", text);
        Assert.Equal(2, text.Count(c => c == '\n'));
    }

    [Fact]
    public void JsonWritersKeepOneObjectPerLineAndTheRealCharacters()
    {
        var e = Auth(ForgedLine + Escapes + Bidi, mechanism: "AUTH=X\u2028Y");
        var ms = new MemoryEventOutput();
        new EventWriter(ms, json: true, "sensor\u202e-1", Serilog.Core.Logger.None) { CaptureFile = "c\u202e.pcap" }.Emit(e);
        var viaStream = Encoding.UTF8.GetString(ms.ToArray());
        Assert.EndsWith("\n", viaStream);
        Assert.Single(viaStream.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var path = Path.Combine(Path.GetTempPath(), $"sensor-wiretext-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        try
        {
            using (var log = new EventWriter(new EventLogFile(path), json: true, "sensor\u202e-1", Serilog.Core.Logger.None)) log.Emit(e);
            var viaFile = File.ReadAllText(path);
            Assert.Single(viaFile.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            foreach (var json in new[] { viaStream.TrimEnd('\n'), viaFile.TrimEnd('\n') })
            {
                AssertNothingUnsafe(json);
                var node = JsonNode.Parse(json)!;
                Assert.Equal(ForgedLine + Escapes + Bidi, (string?)node["auth"]!["username"]);
                Assert.Equal("AUTH=X\u2028Y", (string?)node["auth"]!["mechanism"]);
            }
            Assert.Equal("c\u202e.pcap", (string?)JsonNode.Parse(viaStream)!["pcap_file"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheSummaryShowsNoWireText()
    {
        var summary = new RunSummary();
        summary.Emit(Auth(ForgedLine, mechanism: "AUTH=X\u001b[31m\r\nlogins: 0"));
        summary.AddPipeline(new SensorCounters(), new ServerPostureTable());
        var report = summary.Render();
        AssertNothingUnsafe(report.Replace("\n", ""));
        Assert.Contains("imap  AUTH=other", report);
        Assert.DoesNotContain("X\u001b", report);
    }

    /// <summary>No character of the output is one that must be escaped (a line feed ends the output's lines only).</summary>
    private static void AssertNothingUnsafe(string output)
    {
        for (int i = 0; i < output.Length; i++)
        {
            int cp = output[i];
            if (char.IsSurrogatePair(output, i)) cp = char.ConvertToUtf32(output[i], output[++i]);
            else Assert.False(char.IsSurrogate(output[i]), $"lone surrogate at {i} in: {output}");
            Assert.False(MustBeEscaped.Contains(cp), $"U+{cp:X4} at {i} in: {output}");
        }
    }

    private static string Utf8RoundTrip(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
}

/// <summary>
/// Reads a finding line back the way its documentation says: fields are separated by spaces
/// outside quotes; a quoted value ends at the first unescaped quote; escapes are \\ \" \r \n \t \e
/// \xHH \uHHHH \UHHHHHHHH. Written from the README, not from the formatter.
/// </summary>
internal static class TextLine
{
    public sealed record Fields(string Mechanism, string? User, string Client, string Server, string Secret);

    public static Fields Parse(string line)
    {
        var t = Tokens(line);
        // timestamp PROTO login MECHANISM exposure outcome user=U client -> server secret=S
        Assert.Equal(11, t.Count);
        Assert.Equal("login", t[2]);
        Assert.Equal("->", t[8]);
        return new Fields(Value(t[3]), t[6] == "user=(unknown)" ? null : Value(t[6]["user=".Length..]), t[7], t[9], Value(t[10]["secret=".Length..]));
    }

    public static List<string> Tokens(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '\\') { current.Append(c).Append(line[++i]); continue; }
            if (c == '"') quoted = !quoted;
            if (c == ' ' && !quoted)
            {
                if (current.Length > 0) tokens.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        Assert.False(quoted, "a quote was left open");
        if (current.Length > 0) tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>A bare value as it is; a quoted one unquoted and unescaped.</summary>
    public static string Value(string token)
    {
        if (!token.StartsWith('"')) return token;
        Assert.EndsWith("\"", token);
        var s = token[1..^1];
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { sb.Append(s[i]); continue; }
            char k = s[++i];
            switch (k)
            {
                case '\\' or '"': sb.Append(k); break;
                case 'r': sb.Append('\r'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'e': sb.Append('\u001b'); break;
                case 'x': sb.Append((char)int.Parse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber)); i += 2; break;
                case 'u': sb.Append((char)int.Parse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber)); i += 4; break;
                case 'U': sb.Append(char.ConvertFromUtf32(int.Parse(s.AsSpan(i + 1, 8), NumberStyles.HexNumber))); i += 8; break;
                default: throw new FormatException($"unknown escape \\{k} in {token}");
            }
        }
        return sb.ToString();
    }
}
