using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Report;

/// <summary>
/// pcaps/crafted/html-hostile-usernames and html-hostile-mechanism: usernames and a SASL mechanism that would run script, open
/// elements or leave an attribute if the page wrote them unescaped. In a real browser they must be
/// text and nothing else, and read exactly as sent.
/// </summary>
public sealed class ReportEscapingTests : IDisposable
{
    private static readonly string[] Captures =
        new[] { "html-hostile-usernames.pcap", "html-hostile-mechanism.pcap" }.Select(c => Path.Combine(RepoPaths.Pcaps, "crafted", c)).ToArray();
    private readonly ReportRun _run = new(["--reveal-secrets", .. Captures]); // the events get the passwords, the page must not
    private readonly HeadlessChromium _browser = new();

    public ReportEscapingTests() => _browser.Open(_run.Page);

    private static List<string> Expected(string field) => Captures.SelectMany(c => File.ReadAllLines(Path.ChangeExtension(c, ".expected.jsonl")))
        .Select(l => (string?)JsonNode.Parse(l)!["auth"]![field]).OfType<string>().ToList();

    [Fact]
    public void HostileUsernamesAreTextAndReadExactlyAsSent()
    {
        var usernames = Expected("username");
        Assert.Contains(usernames, u => u.Contains("<script>"));
        Assert.Contains(usernames, u => u.Contains('"') && u.Contains("onerror"));
        Assert.Contains(usernames, u => u.Contains('\'') && u.Contains('&'));
        var cells = _browser.Evaluate("[...document.querySelectorAll('#usernames-table td.username')].map(td => td.textContent)")!
            .AsArray().Select(n => (string)n!).ToList();
        Assert.Equal(usernames.Order(StringComparer.Ordinal), cells.Order(StringComparer.Ordinal));
        // And in the data section, parsed as the browser parses it.
        var data = _browser.Evaluate("JSON.parse(document.getElementById('report-data').textContent).usernames.rows.map(r => r.username)")!
            .AsArray().Select(n => (string?)n).OfType<string>().ToList();
        Assert.Equal(usernames.Order(StringComparer.Ordinal), data.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NothingFromTheWireBecameAnElementOrRan()
    {
        Assert.Equal(2, (int)_browser.Evaluate("document.scripts.length")!); // the data section and the page's own
        Assert.Equal(0, (int)_browser.Evaluate("document.querySelectorAll('img, b, [onerror], [onload]').length")!);
        // The chart and its legend swatches are the only SVG: nothing named SVG by a client.
        Assert.Equal(0, (int)_browser.Evaluate("[...document.querySelectorAll('svg')].filter(s => s.id !== 'timeline-chart' && !s.closest('#timeline-legend')).length")!);
        Assert.Equal("undefined", (string)_browser.Evaluate("typeof window.pwned")!);
        var mechanism = (string)_browser.Evaluate("[...document.querySelectorAll('#usernames-table td.mechanisms')].map(td => td.textContent).join('|')")!;
        Assert.Contains("AUTH=X-<SVG/ONLOAD=WINDOW.PWNED=3>", mechanism);
        // The raw file holds none of it unescaped, so no other reader (an editor's preview, a mail client) runs it either.
        foreach (var bad in (string[])["<script>window", "<img", "<SVG/", "<b>", "onerror=\""])
            Assert.DoesNotContain(bad, _run.Html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void NoPasswordOfTheHostileCaptureIsOnThePage()
    {
        var secrets = Expected("secret");
        Assert.Equal(3, secrets.Count);
        Assert.Equal(secrets, _run.Logins.Select(e => (string?)e["auth"]!["secret"]).Where(s => s != "[redacted]"));
        var dom = (string)_browser.Evaluate("document.documentElement.outerHTML")!;
        foreach (var s in secrets)
        {
            Assert.DoesNotContain(s, _run.Html, StringComparison.Ordinal);
            Assert.DoesNotContain(s, dom, StringComparison.Ordinal);
        }
        File.WriteAllBytes(ReportRun.ArtifactPath("html-hostile-usernames.png"), _browser.Screenshot());
    }

    public void Dispose()
    {
        _browser.Dispose();
        _run.Dispose();
    }
}
