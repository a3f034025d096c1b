using System.Text.Encodings.Web;
using System.Text.Json;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Report;

/// <summary>
/// The report's data section: the model as one JSON document, embedded in the page for anyone who
/// wants the numbers rather than the view, and compared whole by the golden test. Nothing in it
/// depends on when or where the report was made. The default encoder escapes &lt; &gt; &amp; ' and
/// non-ASCII, so wire text cannot close the script element that holds the document.
/// </summary>
public static class ReportData
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.Default };

    public static string ToJson(ReportModel m)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options))
        {
            w.WriteStartObject();
            if (m.Incomplete is not null) w.WriteString("incomplete", m.Incomplete);
            WriteHeadline(w, m.Headline);
            Table(w, "servers", m.Servers, (w, s) =>
            {
                w.WriteString("server", s.Server);
                w.WriteString("protocol", s.Protocol);
                if (s.OffersStartTls is bool o) w.WriteBoolean("starttls_offered", o); else w.WriteNull("starttls_offered");
                w.WriteNumber("starttls_upgrades", s.StartTlsUpgrades);
                w.WriteNumber("starttls_refused", s.StartTlsRefused);
                w.WriteBoolean("logindisabled", s.LoginDisabled);
                w.WriteBoolean("auth_before_starttls", s.AuthBeforeStartTls);
                w.WriteNumber("logins", s.Logins);
                w.WriteNumber("cleartext_logins", s.CleartextLogins);
                w.WriteNumber("cleartext_accepted", s.CleartextAccepted);
                w.WriteNumber("failures", s.Failures);
            });
            Table(w, "clients", m.Clients, (w, c) =>
            {
                w.WriteString("client", c.Client);
                Strings(w, "protocols", c.Protocols);
                w.WriteNumber("logins", c.Logins);
                w.WriteNumber("cleartext_logins", c.CleartextLogins);
                w.WriteNumber("failures", c.Failures);
                w.WriteNumber("servers", c.Servers);
                if (c.ServersCapped) w.WriteBoolean("servers_capped", true);
            });
            Table(w, "usernames", m.Usernames, (w, u) =>
            {
                if (u.Username is null) w.WriteNull("username"); else w.WriteString("username", u.Username);
                Strings(w, "mechanisms", u.Mechanisms);
                if (u.MechanismsCapped) w.WriteBoolean("mechanisms_capped", true);
                Strings(w, "protocols", u.Protocols);
                w.WriteNumber("logins", u.Logins);
                w.WriteNumber("cleartext_logins", u.CleartextLogins);
                w.WriteNumber("successes", u.Successes);
                w.WriteNumber("failures", u.Failures);
                w.WriteNumber("clients", u.Clients);
                if (u.ClientsCapped) w.WriteBoolean("clients_capped", true);
            });
            Table(w, "guessing", m.Episodes, (w, g) =>
            {
                w.WriteString("timestamp", EventNames.Timestamp(g.TimestampNs));
                w.WriteString("protocol", g.Protocol);
                w.WriteString("kind", g.Kind);
                w.WriteString("client", g.Client);
                w.WriteString("server", g.Server);
                w.WriteNumber("failures", g.Failures);
                w.WriteNumber("usernames", g.Usernames);
                if (g.Username is not null) w.WriteString("username", g.Username);
                w.WriteNumber("window_seconds", g.WindowSeconds);
            });
            WriteTimeline(w, m.Timeline);
            Table(w, "captures", m.Files, (w, f) =>
            {
                w.WriteString("path", f.Path);
                w.WriteBoolean("read", f.Read);
                if (f.Problem is not null) w.WriteString("problem", f.Problem);
            });
            w.WriteStartObject("counters");
            foreach (var s in m.Counters) w.WriteNumber(s.Key, s.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteHeadline(Utf8JsonWriter w, ReportHeadline h)
    {
        w.WriteStartObject("headline");
        w.WriteNumber("captures_read", h.CapturesRead);
        w.WriteNumber("captures_unreadable", h.CapturesUnreadable);
        w.WriteNumber("packets", h.Packets);
        w.WriteNumber("connections", h.Connections);
        w.WriteNumber("mail_sessions", h.MailSessions);
        w.WriteNumber("logins", h.Logins);
        w.WriteNumber("cleartext_logins", h.CleartextLogins);
        w.WriteNumber("cleartext_accepted", h.CleartextAccepted);
        w.WriteNumber("failures", h.Failures);
        w.WriteNumber("guessing_episodes", h.GuessingEpisodes);
        w.WriteNumber("starttls_upgrades", h.StartTlsUpgrades);
        w.WriteNumber("starttls_refused", h.StartTlsRefused);
        if (h.FirstLoginNs is long first) w.WriteString("first_login", EventNames.Timestamp(first));
        if (h.LastLoginNs is long last) w.WriteString("last_login", EventNames.Timestamp(last));
        w.WriteEndObject();
    }

    private static void WriteTimeline(Utf8JsonWriter w, TimelineBuckets t)
    {
        w.WriteStartObject("timeline");
        w.WriteNumber("bucket_seconds", t.WidthSeconds);
        w.WriteStartArray("series");
        foreach (var name in TimelineChart.SeriesNames) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WriteStartArray("buckets");
        foreach (var (start, counts) in t.Buckets)
        {
            w.WriteStartObject();
            w.WriteString("start", EventNames.Timestamp(start * 1_000_000_000));
            w.WriteStartArray("counts");
            foreach (var n in counts) w.WriteNumberValue(n);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Table<T>(Utf8JsonWriter w, string name, RowsShown<T> rows, Action<Utf8JsonWriter, T> row)
    {
        w.WriteStartObject(name);
        w.WriteStartArray("rows");
        foreach (var r in rows.Rows)
        {
            w.WriteStartObject();
            row(w, r);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("not_shown", rows.NotShown);
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
