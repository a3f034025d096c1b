using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.EventLog;

/// <summary>
/// `sensor read` of crafted captures whose usernames and mechanism name attack the outputs
/// (pcaps/crafted/hostile-usernames.pcap: a username holding CR LF and a forged finding line,
/// one full of terminal escape sequences, one of bidi overrides and separators, one with spaces
/// and "user="; imap-authenticate-hostile-mechanism.pcap: ESC in the SASL mechanism name).
/// </summary>
public sealed class HostileCaptureReadTests
{
    private static string Crafted(string name) => Path.Combine(RepoPaths.Pcaps, "crafted", name);

    private static List<JsonNode> Expected(string name) =>
        File.ReadAllLines(Crafted(name + ".expected.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public void TextOutputHasOneLinePerLoginAndEachParsesBackToTheRealUsername()
    {
        var run = SensorProcess.Run("read", "--threads", "1", Crafted("hostile-usernames.pcap"));
        Assert.Equal(0, run.ExitCode);

        // Everything printed, findings and summary: no control, format or separator character but the line feeds.
        foreach (var c in run.StdOut)
            Assert.False(c != '\n' && (char.IsControl(c) || c is >= '\u2028' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200B'),
                $"U+{(int)c:X4} in the output");
        var findings = run.StdOutLines.Where(l => l.StartsWith("2025-", StringComparison.Ordinal) && l.Contains(" login ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, findings.Count);
        Assert.DoesNotContain(findings, l => TextLine.Tokens(l).Contains("user=root")); // root never logged in
        Assert.Equal(
            Expected("hostile-usernames").Select(e => (string?)e["auth"]!["username"]),
            findings.Select(l => TextLine.Parse(l).User));
        Assert.Contains("logins: 4", run.StdOut);
        // Two failures from one client with two usernames: what the guessing detector held at the end.
        Assert.Contains("tracked at the end: 1 clients, 2 usernames; evicted at the caps: 0 clients, 0 usernames", run.StdOut);
    }

    [Fact]
    public void JsonOutputCarriesTheRealCharactersEscaped()
    {
        var run = SensorProcess.Run("read", "--json", "--threads", "1", Crafted("hostile-usernames.pcap"));
        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain(run.StdOut, c => c != '\n' && (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202E'));
        var logins = run.StdOutLines.Where(l => (string?)JsonNode.Parse(l)!["event_type"] == "auth").ToList();
        Assert.Equal(4, logins.Count);
        Assert.Equal(
            Expected("hostile-usernames").Select(e => (string?)e["auth"]!["username"]),
            logins.Select(l => (string?)JsonNode.Parse(l)!["auth"]!["username"]));
    }

    [Fact]
    public void AnEscapeSequenceInTheMechanismNameIsEscapedInTextAndKeptInJson()
    {
        var text = SensorProcess.Run("read", "--threads", "1", Crafted("imap-authenticate-hostile-mechanism.pcap"));
        var finding = Assert.Single(text.StdOutLines, l => l.StartsWith("2025-", StringComparison.Ordinal) && l.Contains(" login ", StringComparison.Ordinal));
        Assert.Contains(@"login  ""AUTH=X-EVIL\e[31M""", finding);
        Assert.DoesNotContain('\u001b', text.StdOut);
        Assert.Contains("imap  AUTH=other", text.StdOut); // the summary groups it under the fixed set

        var json = SensorProcess.Run("read", "--json", "--threads", "1", Crafted("imap-authenticate-hostile-mechanism.pcap"));
        Assert.Contains(@"""mechanism"":""AUTH=X-EVIL\u001B[31M""", json.StdOut);
        Assert.Equal("AUTH=X-EVIL\u001b[31M", (string?)JsonNode.Parse(json.StdOutLines.Single(l => l.Contains("\"event_type\":\"auth\"", StringComparison.Ordinal)))!["auth"]!["mechanism"]);
    }
}
