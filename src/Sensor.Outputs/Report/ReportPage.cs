using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Report;

/// <summary>
/// The report as one self-contained HTML page: inline CSS, SVG and script, nothing fetched. Its
/// Content-Security-Policy forbids every load and lets only the page's own style and script (by
/// hash) apply, so even a mistake in escaping could neither run injected script nor reach the
/// network when an analyst opens the file.
/// </summary>
public static class ReportPage
{
    private static readonly string Script = Resource("report.js");
    private static readonly string Style = Resource("report.css");

    /// <param name="generated">When the page was made (shown, not part of the data section).</param>
    /// <param name="sensorName">The sensor's configured name (shown, not part of the data section).</param>
    public static string Render(ReportModel m, DateTimeOffset generated, string? sensorName)
    {
        var sb = new StringBuilder(64 * 1024);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '")
            .Append(Hash(Style)).Append("'; script-src '").Append(Hash(Script))
            .Append("'; img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'\">\n");
        sb.Append("<meta name=\"referrer\" content=\"no-referrer\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>Mail login report</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n");
        sb.Append("<header><h1>Mail login report</h1><p class=\"meta\">Generated ")
            .Append(HtmlText.Of(generated.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)));
        if (!string.IsNullOrEmpty(sensorName)) sb.Append(" by sensor ").Append(HtmlText.Wire(sensorName));
        sb.Append(". Passwords, tokens and digests are never written into this report.</p></header>\n");
        if (m.Incomplete is not null)
            sb.Append("<p class=\"incomplete\" id=\"incomplete\">Incomplete: ").Append(HtmlText.Of(m.Incomplete)).Append("</p>\n");

        Headline(sb, m.Headline);
        Timeline(sb, m.Timeline);
        Servers(sb, m.Servers);
        Clients(sb, m.Clients);
        Usernames(sb, m.Usernames);
        Guessing(sb, m.Episodes);
        Skipped(sb, m);

        sb.Append("<script type=\"application/json\" id=\"report-data\">\n").Append(ReportData.ToJson(m)).Append("\n</script>\n");
        sb.Append("<script>").Append(Script).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Headline(StringBuilder sb, ReportHeadline h)
    {
        sb.Append("<section id=\"headline\"><h2>In numbers</h2><dl class=\"numbers\">\n");
        void Number(string id, string label, string value, bool alert = false) =>
            sb.Append("<div id=\"n-").Append(id).Append('"').Append(alert ? " class=\"alert\"" : "").Append("><dt>")
              .Append(HtmlText.Of(label)).Append("</dt><dd>").Append(HtmlText.Of(value)).Append("</dd></div>\n");
        Number("captures", "Captures read", Count(h.CapturesRead) + (h.CapturesUnreadable > 0 ? $" (+{h.CapturesUnreadable} unreadable)" : ""));
        Number("packets", "Packets", Count(h.Packets));
        Number("connections", "TCP connections", Count(h.Connections));
        Number("sessions", "Mail sessions", Count(h.MailSessions));
        Number("logins", "Logins", Count(h.Logins));
        Number("cleartext", "Cleartext logins", Count(h.CleartextLogins), h.CleartextLogins > 0);
        Number("accepted", "Cleartext logins accepted", Count(h.CleartextAccepted), h.CleartextAccepted > 0);
        Number("failures", "Failed logins", Count(h.Failures));
        Number("guessing", "Guessing episodes", Count(h.GuessingEpisodes), h.GuessingEpisodes > 0);
        Number("starttls", "Sessions upgraded by STARTTLS",
            h.MailSessions == 0 ? "-" : $"{Count(h.StartTlsUpgrades)} ({Percent((double)h.StartTlsUpgrades / h.MailSessions)})");
        sb.Append("</dl>\n");
        if (h.FirstLoginNs is long first && h.LastLoginNs is long last)
            sb.Append("<p class=\"note\">Logins from ").Append(EventNames.Timestamp(first)).Append(" to ").Append(EventNames.Timestamp(last))
              .Append(" (packet time). STARTTLS refused: ").Append(Count(h.StartTlsRefused)).Append(".</p>\n");
        sb.Append("</section>\n");
    }

    private static void Timeline(StringBuilder sb, TimelineBuckets t)
    {
        sb.Append("<section id=\"timeline\"><h2>Logins over time</h2>\n");
        var svg = TimelineChart.Svg(t);
        if (svg.Length == 0)
        {
            sb.Append("<p class=\"empty\">No logins.</p></section>\n");
            return;
        }
        sb.Append(svg).Append("\n<ul class=\"legend\" id=\"timeline-legend\">");
        var present = new bool[TimelineBuckets.SeriesCount];
        foreach (var (_, counts) in t.Buckets)
            for (int s = 0; s < counts.Length; s++) present[s] |= counts[s] > 0;
        for (int s = 0; s < present.Length; s++)
        {
            if (!present[s]) continue;
            sb.Append("<li data-series=\"").Append(TimelineChart.SeriesNames[s]).Append("\"><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"")
              .Append(TimelineChart.ColorOf(s)).Append("\"/></svg>").Append(TimelineChart.SeriesNames[s].Replace('-', ' ')).Append("</li>");
        }
        sb.Append("</ul></section>\n");
    }

    private static void Servers(StringBuilder sb, RowsShown<ServerRow> servers)
    {
        sb.Append("<section id=\"servers\"><h2>Servers</h2>\n<p class=\"note\">Each mail service seen (address, port, protocol). ")
          .Append("STARTTLS offered: in a capability list or by a successful upgrade (\"not seen\": no capability list crossed in cleartext). ")
          .Append("Failure rate: failures among logins whose answer was seen.</p>\n");
        var table = new HtmlTable("servers-table", ("Server", false), ("Protocol", false), ("STARTTLS offered", false), ("STARTTLS used", true),
            ("STARTTLS refused", true), ("LOGINDISABLED", false), ("AUTH before STARTTLS", false), ("Logins", true),
            ("Cleartext logins", true), ("Cleartext accepted", true), ("Failures", true), ("Failure rate", true));
        foreach (var s in servers.Rows)
            table.Row(new HtmlTable.Cell(HtmlText.Of(s.Server), s.SortKey, "server"), HtmlTable.Cell.Text(s.Protocol),
                YesNo(s.OffersStartTls), HtmlTable.Cell.Number(s.StartTlsUpgrades), HtmlTable.Cell.Number(s.StartTlsRefused),
                YesNo(s.LoginDisabled), YesNo(s.AuthBeforeStartTls), HtmlTable.Cell.Number(s.Logins),
                HtmlTable.Cell.Number(s.CleartextLogins), Alarm(s.CleartextAccepted), HtmlTable.Cell.Number(s.Failures),
                s.FailureRate is double r ? new HtmlTable.Cell(Percent(r), r.ToString("R", CultureInfo.InvariantCulture), "num") : new HtmlTable.Cell("<span class=\"none\">-</span>", "-1", "num"));
        table.WriteTo(sb, servers.NotShown, "No mail server seen.");
        sb.Append("</section>\n");
    }

    private static void Clients(StringBuilder sb, RowsShown<ClientRow> clients)
    {
        sb.Append("<section id=\"clients\"><h2>Clients</h2>\n");
        var table = new HtmlTable("clients-table", ("Client", false), ("Protocols", false), ("Logins", true), ("Cleartext logins", true),
            ("Failures", true), ("Servers", true));
        foreach (var c in clients.Rows)
            table.Row(new HtmlTable.Cell(HtmlText.Of(c.Client), c.SortKey, "client"), HtmlTable.Cell.Text(string.Join(", ", c.Protocols)),
                HtmlTable.Cell.Number(c.Logins), Alarm(c.CleartextLogins), HtmlTable.Cell.Number(c.Failures),
                Capped(c.Servers, c.ServersCapped));
        table.WriteTo(sb, clients.NotShown, "No client logged in.");
        sb.Append("</section>\n");
    }

    private static void Usernames(StringBuilder sb, RowsShown<UsernameRow> usernames)
    {
        sb.Append("<section id=\"usernames\"><h2>Usernames</h2>\n<p class=\"note\">As sent by the clients: control, invisible and direction-changing characters are shown as escapes.</p>\n");
        var table = new HtmlTable("usernames-table", ("Username", false), ("Mechanisms", false), ("Protocols", false), ("Logins", true),
            ("Cleartext logins", true), ("Successes", true), ("Failures", true), ("Clients", true));
        foreach (var u in usernames.Rows)
            table.Row(u.Username is null ? new HtmlTable.Cell("<span class=\"none\">(none sent)</span>", "", "wire") : new HtmlTable.Cell(HtmlText.Wire(u.Username), WireText.Escape(u.Username), "wire username"),
                new HtmlTable.Cell(string.Join(", ", u.Mechanisms.Select(HtmlText.Wire)) + (u.MechanismsCapped ? ", …" : ""), null, "wire mechanisms"),
                HtmlTable.Cell.Text(string.Join(", ", u.Protocols)), HtmlTable.Cell.Number(u.Logins), Alarm(u.CleartextLogins),
                HtmlTable.Cell.Number(u.Successes), HtmlTable.Cell.Number(u.Failures), Capped(u.Clients, u.ClientsCapped));
        table.WriteTo(sb, usernames.NotShown, "No username seen.");
        sb.Append("</section>\n");
    }

    private static void Guessing(StringBuilder sb, RowsShown<EpisodeRow> episodes)
    {
        sb.Append("<section id=\"guessing\"><h2>Password guessing</h2>\n<p class=\"note\">Episodes that crossed the guessing or spraying threshold, at the failure that crossed it.</p>\n");
        var table = new HtmlTable("guessing-table", ("Time (UTC)", false), ("Kind", false), ("Protocol", false), ("Client", false), ("Server", false),
            ("Failures", true), ("Usernames", true), ("Username", false), ("Window (s)", true));
        foreach (var g in episodes.Rows)
            table.Row(HtmlTable.Cell.Text(EventNames.Timestamp(g.TimestampNs)), HtmlTable.Cell.Text(g.Kind), HtmlTable.Cell.Text(g.Protocol),
                new HtmlTable.Cell(HtmlText.Of(g.Client), g.ClientSortKey), HtmlTable.Cell.Text(g.Server),
                HtmlTable.Cell.Number(g.Failures), HtmlTable.Cell.Number(g.Usernames),
                g.Username is null ? new HtmlTable.Cell("<span class=\"none\">-</span>", "") : new HtmlTable.Cell(HtmlText.Wire(g.Username), WireText.Escape(g.Username), "wire"),
                HtmlTable.Cell.Number(g.WindowSeconds));
        table.WriteTo(sb, episodes.NotShown, "No password guessing detected.");
        sb.Append("</section>\n");
    }

    private static void Skipped(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"skipped\"><h2>What was read and what was skipped</h2>\n");
        var files = new HtmlTable("captures-table", ("Capture", false), ("Read", false), ("Problem", false));
        foreach (var f in m.Files.Rows)
            files.Row(new HtmlTable.Cell(HtmlText.Wire(f.Path), null, "wire"), new HtmlTable.Cell(f.Read ? "yes" : "no", null, f.Read ? null : "bad"),
                f.Problem is null ? new HtmlTable.Cell("") : HtmlTable.Cell.Text(f.Problem));
        files.WriteTo(sb, m.Files.NotShown, "No capture given.");
        sb.Append("<p class=\"note\">Counters of the whole run: every bound hit and every input skipped or lost is counted here.</p>\n");
        var counters = new HtmlTable("skipped-table", ("Counter", false), ("Value", true));
        foreach (var s in m.Counters)
            counters.Row(new HtmlTable.Cell(HtmlText.Of(s.Label), null, "counter-" + s.Key.Replace('_', '-')), s.Value > 0 && IsLoss(s.Key) ? Alarm(s.Value) : HtmlTable.Cell.Number(s.Value));
        counters.WriteTo(sb, 0, "");
        sb.Append("</section>\n");
    }

    /// <summary>Counters that mean something was not analysed (rather than volume or ordinary traffic): shown in red when not zero.</summary>
    private static readonly HashSet<string> Losses =
    [
        "packets_malformed", "packets_truncated_by_snaplen", "packets_encapsulation_unknown", "packets_too_deep", "ip_fragment_overlap_conflicts",
        "ip_fragments_invalid", "ip_fragment_datagrams_dropped", "ip_fragment_datagrams_timed_out", "ip_fragment_datagrams_evicted",
        "ip_fragment_datagrams_incomplete", "flows_evicted_at_limit", "gaps", "gap_bytes",
        "flow_buffer_limit_hits", "global_buffer_limit_hits", "segments_dropped_at_limit", "lines_too_long", "line_budget_hits",
        "malformed_lines", "pending_command_overflows", "tls_without_start_tls_seen", "credentials_unproven", "answers_after_loss",
        "analyzer_faults", "server_postures_not_kept", "report_servers_not_kept", "report_clients_not_kept", "report_usernames_not_kept",
        "guessing_clients_evicted", "guessing_usernames_evicted",
    ];

    private static bool IsLoss(string key) => Losses.Contains(key);

    private static HtmlTable.Cell YesNo(bool? value) => value switch
    {
        true => new HtmlTable.Cell("yes", "1"),
        false => new HtmlTable.Cell("no", "0"),
        null => new HtmlTable.Cell("<span class=\"none\">not seen</span>", "-1"),
    };

    private static HtmlTable.Cell Alarm(long n) => new(Count(n), n.ToString(CultureInfo.InvariantCulture), n > 0 ? "num bad" : "num");

    private static HtmlTable.Cell Capped(int n, bool capped) => new(Count(n) + (capped ? "+" : ""), n.ToString(CultureInfo.InvariantCulture), "num");

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));

    private static string Resource(string name)
    {
        using var s = typeof(ReportPage).Assembly.GetManifestResourceStream("Sensor.Outputs.Report." + name)
                      ?? throw new InvalidOperationException($"resource {name} missing from the build");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }
}
