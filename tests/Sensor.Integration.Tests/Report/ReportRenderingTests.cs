using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Report;

/// <summary>The report of the bundled real-software captures, as a real Chromium renders it.</summary>
public sealed class ReportRenderingTests(ReportRenderingTests.BundledReport bundled) : IClassFixture<ReportRenderingTests.BundledReport>
{
    /// <summary>
    /// One run over the Dovecot, SMTP and third-party captures with --reveal-secrets, so that its own
    /// events carry every password the page must not: the report ignores the flag.
    /// </summary>
    public sealed class BundledReport : IDisposable
    {
        public BundledReport()
        {
            Run = new ReportRun("--reveal-secrets", Pcaps("dovecot"), Pcaps("smtp"), Pcaps("third-party"));
            Browser = new HeadlessChromium();
            Browser.Open(Run.Page);
        }

        public ReportRun Run { get; }
        public HeadlessChromium Browser { get; }

        public void Dispose()
        {
            Browser.Dispose();
            Run.Dispose();
        }
    }

    private static string Pcaps(string folder) => Path.Combine(RepoPaths.Pcaps, folder);

    private ReportRun Run => bundled.Run;
    private HeadlessChromium Browser => bundled.Browser;

    [Fact]
    public void TheChartHasABarForEveryBucketAndSeriesAndTheBarsCountEveryLogin()
    {
        var bars = Browser.Evaluate("[...document.querySelectorAll('#timeline-chart rect.bar')].map(r => " +
                                    "({ series: r.dataset.series, count: Number(r.dataset.count), w: r.getBBox().width, h: r.getBBox().height }))")!.AsArray();
        // Drawn: each bar has an area on screen.
        Assert.All(bars, b => Assert.True((double)b!["w"]! > 0 && (double)b["h"]! > 0, b!.ToJsonString()));
        // One bar per non-empty cell of the data section's timeline.
        var timeline = JsonNode.Parse(Run.DataSection)!["timeline"]!;
        int cells = timeline["buckets"]!.AsArray().Sum(b => b!["counts"]!.AsArray().Count(c => (long)c! > 0));
        Assert.Equal(cells, bars.Count);
        // Per series, the bars add up to the logins of that exposure and outcome in the run's own events.
        var expected = Run.Logins.GroupBy(e => $"{e["auth"]!["exposure"]}-{e["auth"]!["outcome"]}").ToDictionary(g => g.Key, g => g.LongCount());
        var drawn = bars.GroupBy(b => (string)b!["series"]!).ToDictionary(g => g.Key, g => g.Sum(b => (long)b!["count"]!));
        Assert.Equal(expected.OrderBy(kv => kv.Key), drawn.OrderBy(kv => kv.Key));
        Assert.True(Run.Logins.Count() > 50, $"only {Run.Logins.Count()} logins in the bundled captures");
    }

    [Fact]
    public void EveryServerOfTheCapturesIsListed()
    {
        var listed = Browser.Evaluate("[...document.querySelectorAll('#servers-table tbody td.server')].map(td => td.textContent)")!
            .AsArray().Select(n => (string)n!).ToHashSet();
        var servers = Run.Events.Select(e => ReportRun.Endpoint((string)e["dest_ip"]!, (int)e["dest_port"]!)).ToHashSet();
        Assert.True(servers.Count >= 10, $"only {servers.Count} servers");
        Assert.Empty(servers.Except(listed));
    }

    [Fact]
    public void NoPasswordIsOnThePageEvenWithRevealSecrets()
    {
        var secrets = Run.Logins.Select(e => (string?)e["auth"]!["secret"]).OfType<string>().Where(s => s != "[redacted]").Distinct().ToList();
        Assert.True(secrets.Count >= 20, $"only {secrets.Count} secrets revealed: --reveal-secrets had no effect on the events");
        // Text the page shows legitimately; a secret equal to part of it (a password that is also a
        // username) could not be told apart, so it is left out of the search.
        var shown = Run.Events.SelectMany(e => new[] { (string?)e["auth"]?["username"], (string?)e["auth"]?["mechanism"], (string?)e["pcap_file"] })
            .OfType<string>().ToList();
        var searched = secrets.Where(s => s.Length >= 4 && !shown.Any(t => t.Contains(s, StringComparison.Ordinal))).ToList();
        Assert.True(searched.Count >= 20, $"only {searched.Count} secrets to search for");
        var dom = (string)Browser.Evaluate("document.documentElement.outerHTML")!;
        var text = (string)Browser.Evaluate("document.body.innerText")!;
        foreach (var s in searched)
        {
            Assert.DoesNotContain(s, Run.Html, StringComparison.Ordinal);
            Assert.DoesNotContain(s, dom, StringComparison.Ordinal);
            Assert.DoesNotContain(s, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ClickingAColumnHeaderSortsTheTableAndClickingAgainReverses()
    {
        const string logins = "[...document.querySelectorAll('#servers-table tbody tr')].map(r => Number(r.cells[7].textContent.replace(/,/g, '')))";
        const string servers = "[...document.querySelectorAll('#servers-table tbody tr')].map(r => r.cells[0].dataset.v)";
        Assert.Equal("ready", (string?)Browser.Evaluate("document.documentElement.dataset.sortable"));
        var before = Values(logins);
        Assert.True(before.Distinct().Count() > 3, "too few distinct values to see a sort");

        Browser.ClickOn("#servers-table thead th:nth-child(8)");
        var ascending = Values(logins);
        Assert.Equal(before.Order(), ascending);
        Assert.Equal("ascending", (string?)Browser.Evaluate("document.querySelector('#servers-table thead th:nth-child(8)').getAttribute('aria-sort')"));

        Browser.ClickOn("#servers-table thead th:nth-child(8)");
        Assert.Equal(before.OrderDescending(), Values(logins));

        // A text column sorts by its sort key (addresses in numeric order, not as text).
        Browser.ClickOn("#servers-table thead th:nth-child(1)");
        var keys = Browser.Evaluate(servers)!.AsArray().Select(n => (string)n!).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal("ascending", (string?)Browser.Evaluate("document.querySelector('#servers-table thead th:nth-child(1)').getAttribute('aria-sort')"));
        Assert.Null(Browser.Evaluate("document.querySelector('#servers-table thead th:nth-child(8)').getAttribute('aria-sort')"));

        List<double> Values(string expression) => Browser.Evaluate(expression)!.AsArray().Select(n => (double)n!).ToList();
    }

    [Fact]
    public void ThePageLoadsNothingAndForbidsLoadingAnything()
    {
        Assert.All(Browser.Requests, url => Assert.StartsWith("file://", url));
        Assert.Equal(0, (int)Browser.Evaluate("document.querySelectorAll('[src], [href], link, img, iframe, object, embed, base').length")!);
        var policy = (string)Browser.Evaluate("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")!;
        Assert.StartsWith("default-src 'none';", policy);
        Assert.DoesNotContain("unsafe", policy);
        // The script ran under that policy (its hash matched): the tables became sortable.
        Assert.Equal("ready", (string?)Browser.Evaluate("document.documentElement.dataset.sortable"));
    }

    [Fact]
    public void TheHeadlineCountsWhatTheEventsSay()
    {
        string Number(string id) => ((string)Browser.Evaluate($"document.querySelector('#n-{id} dd').textContent")!).Replace(",", "");
        Assert.Equal(Run.Logins.Count().ToString(), Number("logins"));
        Assert.Equal(Run.Logins.Count(e => (string?)e["auth"]!["exposure"] == "cleartext").ToString(), Number("cleartext"));
        Assert.Equal(Run.Logins.Count(e => (string?)e["auth"]!["outcome"] == "failure").ToString(), Number("failures"));
        int captures = new[] { "dovecot", "smtp", "third-party" }
            .Sum(f => Directory.GetFiles(Pcaps(f), "*", SearchOption.AllDirectories).Count(p => p.EndsWith(".pcap") || p.EndsWith(".pcapng"))); // folders are read recursively
        Assert.Equal(captures.ToString(), Number("captures"));
    }

    [Fact]
    public void AScreenshotOfThePageIsKept()
    {
        var png = Browser.Screenshot();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        var height = (int)Browser.Evaluate("document.documentElement.scrollHeight")!;
        Assert.True(height > 1500, $"the page is only {height} px tall");
        File.WriteAllBytes(ReportRun.ArtifactPath("bundled-captures.png"), png);
    }
}
