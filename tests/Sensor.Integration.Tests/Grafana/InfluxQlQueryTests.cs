using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Sensor.Integration.Tests.Grafana.GrafanaProvisioning;

namespace Sensor.Integration.Tests.Grafana;

/// <summary>One series of an InfluxQL answer: its tags, columns and rows (time in ms, values as doubles or null).</summary>
public sealed record Series(string Name, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> Columns, IReadOnlyList<JsonElement[]> Rows)
{
    public string Label => string.Join(",", Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));

    public IEnumerable<string> ValueColumns => Columns.Where(c => c != "time");

    public double? Number(int row, string column) => Rows[row][Index(column)] switch
    {
        { ValueKind: JsonValueKind.Number } n => n.GetDouble(),
        _ => null,
    };

    public string? Text(int row, string column) => Rows[row][Index(column)] switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    /// <summary>Minutes after <see cref="InfluxQlQueryTests.T0"/> → value, for the rows that have one.</summary>
    public Dictionary<int, double> PerMinute(string column) =>
        Enumerable.Range(0, Rows.Count).Where(i => Number(i, column) is not null)
            .ToDictionary(i => (int)((Rows[i][0].GetInt64() - InfluxQlQueryTests.T0Ms) / 60_000), i => Number(i, column)!.Value);

    public double Sum(string column) => Enumerable.Range(0, Rows.Count).Sum(i => Number(i, column) ?? 0);

    private int Index(string column)
    {
        var i = Columns.ToList().IndexOf(column);
        return i >= 0 ? i : throw new KeyNotFoundException($"no column {column} in {string.Join(",", Columns)}");
    }
}

/// <summary>
/// Starts a real InfluxDB 1.x, writes a known set of points in the sensor's schema, and runs every
/// InfluxQL query of the dashboard and the alert rules against it, the way Grafana would (its
/// $timeFilter and $__interval substituted), checking that each succeeds and returns the numbers the
/// known data implies. The alert rules are evaluated whole (query, reduce, threshold, noDataState).
/// </summary>
public sealed class InfluxQlQueryTests(InfluxQlQueryTests.KnownData data) : IClassFixture<InfluxQlQueryTests.KnownData>
{
    public const string Database = "mail_sensor";
    public static readonly DateTime T0 = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public static readonly long T0Ms = (long)(T0 - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>The dashboard is looked at with "now" = T0+15 min and the time range "last 15 minutes".</summary>
    private static readonly TimeSpan DashboardNow = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan DashboardRange = TimeSpan.FromMinutes(15);
    private const string DashboardInterval = "1m";

    /// <summary>The `sensor` variable at "All", as Grafana writes a multi-value variable into an InfluxQL regex.</summary>
    public const string AllSensors = "(s1|s2)";

    /// <summary>InfluxDB with the known points, shared by the tests of this class.</summary>
    public sealed class KnownData : IDisposable
    {
        public InfluxDbServer Server { get; } = new();

        public KnownData()
        {
            try
            {
                Server.Execute($"CREATE DATABASE {Database}");
                Server.Write(Database, Points());
            }
            catch
            {
                Server.Dispose();
                throw;
            }
        }

        public void Dispose() => Server.Dispose();
    }

    /// <summary>A tag value in line protocol: `,` `=` and space escaped (AUTH=PLAIN → AUTH\=PLAIN), as InfluxDB.Client does.</summary>
    private static string Tag(string value) => value.Replace(",", "\\,").Replace("=", "\\=").Replace(" ", "\\ ");

    private static long Ns(double seconds) => (T0Ms * 1_000_000L) + (long)(seconds * 1e9);

    /// <summary>
    /// The known data (seconds after T0):
    /// logins — 10.0.0.1 imap LOGIN cleartext success at 0, 10, 70; AUTH=PLAIN cleartext failure at 75, 80;
    /// 10.0.0.2 pop3 USER cleartext failure at 130..133, APOP hashed success at 140;
    /// 10.0.0.3 imap AUTH=CRAM-MD5 hashed failure at 150, AUTH=SCRAM-SHA-256 hashed unknown at 200,
    /// AUTH=EXTERNAL none success at 210 (sensor s2). 13 attempts, 9 cleartext (10.0.0.1: 5, 10.0.0.2: 4), 7 failures.
    /// s1 has home networks: its logins to 10.0.0.1 are inbound, to 10.0.0.2 outbound, to 10.0.0.3 internal; s2's have no direction.
    /// servers (s1's inventory) — 10.0.0.1:143 imap inside, 2 cleartext logins accepted at 60, 3 at 240 (of 5 logins, 2 failed);
    /// 10.0.0.2:110 pop3 outside, 0 accepted of 5 at 240; 10.0.0.3:143 imap inside, 0 accepted of 2 at 240.
    /// STARTTLS — success at 5, 65 (10.0.0.1 imap), 125 (10.0.0.2 pop3), failure at 126: 3 successes;
    /// one more success at 1000 (10.0.0.3 imap), after the dashboard's range.
    /// brute force — guessing 10.9.9.9 → 10.0.0.2 pop3 at 134 (4 failures, 1 username),
    /// spraying 10.9.9.8 → 10.0.0.1 imap at 230 (6 failures, 5 usernames).
    /// health — sensor s1 at 0, 10, 70, 130, 190, 250 and restarted (counters back to 0) at 190
    /// (points refused: 2 by 130, 1 more after the restart; dropped: 4 after the restart);
    /// sensor s2 at 0 and 600, all its counters still.
    /// </summary>
    private static IEnumerable<string> Points()
    {
        string Auth(double t, string sensor, string proto, string server, string mech, string exposure, string outcome) =>
            $"mail_auth,sensor={sensor},proto={proto},server={server},mechanism={Tag(mech)},exposure={exposure},outcome={outcome}" +
            (sensor == "s1" ? $",direction={(server == "10.0.0.1" ? "inbound" : server == "10.0.0.2" ? "outbound" : "internal")}" : "") +
            $" count=1i {Ns(t)}";
        yield return Auth(0, "s1", "imap", "10.0.0.1", "LOGIN", "cleartext", "success");
        yield return Auth(10, "s1", "imap", "10.0.0.1", "LOGIN", "cleartext", "success");
        yield return Auth(70, "s1", "imap", "10.0.0.1", "LOGIN", "cleartext", "success");
        yield return Auth(75, "s1", "imap", "10.0.0.1", "AUTH=PLAIN", "cleartext", "failure");
        yield return Auth(80, "s1", "imap", "10.0.0.1", "AUTH=PLAIN", "cleartext", "failure");
        for (int i = 0; i < 4; i++) yield return Auth(130 + i, "s1", "pop3", "10.0.0.2", "USER", "cleartext", "failure");
        yield return Auth(140, "s1", "pop3", "10.0.0.2", "APOP", "hashed", "success");
        yield return Auth(150, "s1", "imap", "10.0.0.3", "AUTH=CRAM-MD5", "hashed", "failure");
        yield return Auth(200, "s1", "imap", "10.0.0.3", "AUTH=SCRAM-SHA-256", "hashed", "unknown");
        yield return Auth(210, "s2", "imap", "10.0.0.3", "AUTH=EXTERNAL", "none", "success");

        string Server(double t, string proto, string server, int port, bool inside, long accepted, long logins, long failures) =>
            $"mail_server,sensor=s1,proto={proto},server={server},port={port},inside={(inside ? "true" : "false")} " +
            $"cleartext_logins_accepted={accepted}i,cleartext_logins={accepted + failures}i,logins={logins}i,failures={failures}i,starttls_offered=1i,login_disabled=0i,starttls_upgrades=2i {Ns(t)}";
        yield return Server(60, "imap", "10.0.0.1", 143, true, 2, 3, 0);
        yield return Server(240, "imap", "10.0.0.1", 143, true, 3, 5, 2);
        yield return Server(240, "pop3", "10.0.0.2", 110, false, 0, 5, 4);
        yield return Server(240, "imap", "10.0.0.3", 143, true, 0, 2, 1);

        string Tls(double t, string proto, string server, string outcome) =>
            $"mail_starttls,sensor=s1,proto={proto},server={server},outcome={outcome} count=1i {Ns(t)}";
        yield return Tls(5, "imap", "10.0.0.1", "success");
        yield return Tls(65, "imap", "10.0.0.1", "success");
        yield return Tls(125, "pop3", "10.0.0.2", "success");
        yield return Tls(126, "pop3", "10.0.0.2", "failure");
        yield return Tls(1000, "imap", "10.0.0.3", "success"); // 16:40, after the dashboard's range: a quarter hour with TLS and no cleartext login

        yield return $"mail_bruteforce,sensor=s1,proto=pop3,server=10.0.0.2,client=10.9.9.9,kind=guessing failures=4i,usernames=1i {Ns(134)}";
        yield return $"mail_bruteforce,sensor=s1,proto=imap,server=10.0.0.1,client=10.9.9.8,kind=spraying failures=6i,usernames=5i {Ns(230)}";

        string Health(double t, string sensor, long packets, long kernelDrops, long gaps, long spooled, long writeFailures, long eventsLost = 0, long rejected = 0, long dropped = 0) =>
            $"sensor_health,sensor={sensor} packets={packets}i,bytes={packets * 120}i,kernel_drops={kernelDrops}i,interface_drops=0i," +
            $"flows=3i,buffered_bytes=0i,gaps={gaps}i,events_written=0i,events_lost={eventsLost}i,points_written={packets / 10}i,points_spooled={spooled}i," +
            $"points_pending=0i,points_rejected={rejected}i,points_dropped={dropped}i,write_failures={writeFailures}i,analyzer_faults=0i {Ns(t)}";
        yield return Health(0, "s1", 0, 0, 0, 0, 0);
        yield return Health(10, "s1", 100, 0, 1, 0, 0);
        yield return Health(70, "s1", 200, 5, 1, 0, 0, eventsLost: 2);
        yield return Health(130, "s1", 300, 9, 2, 0, 0, eventsLost: 2, rejected: 2);
        yield return Health(190, "s1", 10, 0, 0, 0, 0); // restarted: every counter from 0 again
        yield return Health(250, "s1", 20, 3, 0, 4, 1, eventsLost: 1, rejected: 1, dropped: 4);
        yield return Health(0, "s2", 0, 0, 0, 0, 0);
        yield return Health(600, "s2", 600, 0, 0, 0, 0);
    }

    // ---- running a query as Grafana does ----

    private static GrafanaQuery QueryByKey(string key) =>
        AllQueries().SingleOrDefault(q => q.Key == key) ?? throw new KeyNotFoundException("no query " + key);

    /// <summary>
    /// The query with Grafana's macros filled in, for an evaluation at T0 + <paramref name="now"/>:
    /// an alert query covers its relativeTimeRange before now, a dashboard query the dashboard range.
    /// </summary>
    public static string Substitute(GrafanaQuery q, TimeSpan now, string sensors = AllSensors)
    {
        var end = T0Ms + (long)now.TotalMilliseconds;
        var from = end - (q.LookbackFrom is { } f ? f * 1000 : (long)DashboardRange.TotalMilliseconds);
        var to = end - (q.LookbackTo ?? 0) * 1000;
        var text = q.Query
            .Replace("$timeFilter", $"time >= {from}ms and time <= {to}ms")
            .Replace("$__interval", DashboardInterval)
            .Replace("$sensor", sensors);
        // A `$` before a letter, `_` or `{` is a variable; one before `/` ends a regex (/^...$/).
        Assert.False(System.Text.RegularExpressions.Regex.IsMatch(text, @"\$[\w{]"), $"{q.Key}: a Grafana variable is left that this test does not know: {text}");
        return text;
    }

    private List<Series> Run(GrafanaQuery q, TimeSpan now, string sensors = AllSensors)
    {
        var text = Substitute(q, now, sensors);
        using var doc = data.Server.Query(Database, text);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var err)) throw new Xunit.Sdk.XunitException($"{q.Key}: {err}\n{text}");
        var result = root.GetProperty("results")[0];
        if (result.TryGetProperty("error", out var err2)) throw new Xunit.Sdk.XunitException($"{q.Key}: {err2}\n{text}");
        if (!result.TryGetProperty("series", out var series)) return [];
        return series.EnumerateArray().Select(s => new Series(
            s.GetProperty("name").GetString()!,
            s.TryGetProperty("tags", out var tags) ? tags.EnumerateObject().ToDictionary(t => t.Name, t => t.Value.GetString()!) : new Dictionary<string, string>(),
            s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList(),
            s.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.Clone()).ToArray()).ToList())).ToList();
    }

    private List<Series> RunDashboard(string key) => Run(QueryByKey(key), DashboardNow);

    private List<Series> RunDashboard(string key, TimeSpan now, string sensors = AllSensors) => Run(QueryByKey(key), now, sensors);

    /// <summary>
    /// What the STARTTLS share panel shows, by its transformations: the two answers joined, sessions =
    /// the sum of the fields there are, share = 1 - cleartext / sessions; with no cleartext field the
    /// chain yields no value, which the panel's null mapping shows as 100 %. Null: nothing to show.
    /// </summary>
    private double ShareShown(TimeSpan now)
    {
        double? starttls = RunDashboard("dashboard/STARTTLS share/A", now) is [var a] ? a.Number(0, "sum") : null;
        double? cleartext = RunDashboard("dashboard/STARTTLS share/B", now) is [var b] ? b.Number(0, "sum") : null;
        if (cleartext is null) return 1.0; // the "null+nan" mapping: 100 %
        double sessions = (starttls ?? 0) + cleartext.Value;
        return 1 - (cleartext.Value / sessions);
    }

    private static Series Only(List<Series> result, string key)
    {
        Assert.True(result.Count == 1, $"{key}: expected one series, got {result.Count}: {string.Join(" | ", result.Select(s => s.Label))}");
        return result[0];
    }

    private static double Single(List<Series> result, string key)
    {
        var s = Only(result, key);
        Assert.True(s.Rows.Count == 1, $"{key}: expected one row, got {s.Rows.Count}");
        return s.Number(0, s.ValueColumns.Single()) ?? throw new Xunit.Sdk.XunitException(key + ": null value");
    }

    private static Dictionary<string, Series> ByLabel(List<Series> result) => result.ToDictionary(s => s.Label);

    // ---- evaluating an alert rule as Grafana does ----

    /// <summary>
    /// Evaluates the rule at T0 + <paramref name="now"/>: runs its queries, applies its reduce and
    /// threshold steps, and returns the label sets that fire; "(no data)" when the queries returned
    /// nothing and the rule's noDataState is Alerting.
    /// </summary>
    private SortedSet<string> Firing(string uid, TimeSpan now, Dictionary<string, double>? reduced = null)
    {
        var rule = AlertRules(LoadYaml(AlertingFile)).Single(r => Str(r["uid"]) == uid);
        var values = new Dictionary<string, Dictionary<string, List<double?>>>(); // query refId → label → values
        var numbers = new Dictionary<string, Dictionary<string, double>>();         // expression refId → label → number
        var noData = false;
        foreach (var d in Objects(rule["data"]))
        {
            var refId = Str(d["refId"])!;
            var model = d["model"]!;
            if (Str(d["datasourceUid"]) != ExpressionUid)
            {
                var result = Run(QueryByKey($"alert/{uid}/{refId}"), now);
                noData |= result.Count == 0;
                values[refId] = result.SelectMany(s => s.ValueColumns.Select(c => (s, c)))
                    .ToDictionary(sc => sc.s.Label, sc => Enumerable.Range(0, sc.s.Rows.Count).Select(i => sc.s.Number(i, sc.c)).ToList());
                continue;
            }
            var input = Str(model["expression"])!;
            switch (Str(model["type"]))
            {
                case "reduce":
                    Assert.Equal("dropNN", Str(model["settings"]?["mode"]));
                    numbers[refId] = new();
                    foreach (var (label, series) in values[input])
                    {
                        var nn = series.Where(v => v is not null).Select(v => v!.Value).ToList();
                        if (nn.Count == 0) continue;
                        numbers[refId][label] = Str(model["reducer"]) switch
                        {
                            "last" => nn[^1], "max" => nn.Max(), "min" => nn.Min(), "sum" => nn.Sum(), "mean" => nn.Average(), "count" => nn.Count,
                            var other => throw new NotSupportedException("reducer " + other),
                        };
                    }
                    if (reduced is not null) foreach (var (k, v) in numbers[refId]) reduced[k] = v;
                    break;
                case "threshold":
                    var evaluator = model["conditions"]![0]!["evaluator"]!;
                    var limit = double.Parse(Str(evaluator["params"]![0])!, CultureInfo.InvariantCulture);
                    Func<double, bool> test = Str(evaluator["type"]) switch
                    {
                        "gt" => v => v > limit, "lt" => v => v < limit,
                        var other => throw new NotSupportedException("evaluator " + other),
                    };
                    numbers[refId] = numbers[input].ToDictionary(kv => kv.Key, kv => test(kv.Value) ? 1.0 : 0.0);
                    break;
                default:
                    throw new NotSupportedException($"{uid}/{refId}: expression type {Str(model["type"])} (extend this test)");
            }
        }
        if (noData)
            return Str(rule["noDataState"]) == "Alerting" ? new SortedSet<string> { "(no data)" } : [];
        return new SortedSet<string>(numbers[Str(rule["condition"])!].Where(kv => kv.Value != 0).Select(kv => kv.Key), StringComparer.Ordinal);
    }

    private static TimeSpan At(int minutes, int seconds = 0) => new(0, minutes, seconds);

    // ---- what each query must return for the known data ----

    private Dictionary<string, Action> Expectations() => new()
    {
        ["dashboard/Cleartext logins/A"] = () =>
            Assert.Equal(9, Single(RunDashboard("dashboard/Cleartext logins/A"), "cleartext logins")),

        ["dashboard/STARTTLS share/A"] = () =>
            Assert.Equal(3, Single(RunDashboard("dashboard/STARTTLS share/A"), "starttls successes")),
        ["dashboard/STARTTLS share/B"] = () =>
        {
            double starttls = Single(RunDashboard("dashboard/STARTTLS share/A"), "starttls");
            double cleartext = Single(RunDashboard("dashboard/STARTTLS share/B"), "cleartext");
            Assert.Equal(9, cleartext);
            Assert.Equal(0.25, ShareShown(DashboardNow)); // 1 - 9 / (3 + 9), what the panel's transformations compute
            // 10:00-25:00: one STARTTLS and no cleartext login. Query B has no row to give (InfluxQL
            // makes no 0 from nothing, not even with fill(0)): the panel must show 100 %, not "No data".
            var later = TimeSpan.FromMinutes(25);
            Assert.Empty(RunDashboard("dashboard/STARTTLS share/B", later));
            Assert.Equal(1, Single(RunDashboard("dashboard/STARTTLS share/A", later), "starttls"));
            Assert.Equal(1.0, ShareShown(later));
            // Only s2: no STARTTLS and no cleartext login in 0:00-15:00.
            Assert.Empty(RunDashboard("dashboard/STARTTLS share/B", DashboardNow, "s2"));
        },

        ["dashboard/Brute-force episodes/A"] = () =>
            Assert.Equal(2, Single(RunDashboard("dashboard/Brute-force episodes/A"), "episodes")),

        // kernel_drops of s1: 0,0,5,9 | restart | 0,3 → increases 5+4+3 = 12 (not 3 = last-first, not 9 = max-min); s2: 0.
        ["dashboard/Packets dropped by the kernel/A"] = () =>
            Assert.Equal(12, Single(RunDashboard("dashboard/Packets dropped by the kernel/A"), "kernel drops")),

        ["dashboard/Cleartext logins by server and mechanism/A"] = () =>
        {
            var series = ByLabel(RunDashboard("dashboard/Cleartext logins by server and mechanism/A"));
            Assert.Equal(["mechanism=AUTH=PLAIN,server=10.0.0.1", "mechanism=LOGIN,server=10.0.0.1", "mechanism=USER,server=10.0.0.2"], series.Keys.Order(StringComparer.Ordinal));
            Dictionary<int, double> NonZero(string label) => series[label].PerMinute("sum").Where(kv => kv.Value != 0).ToDictionary();
            Assert.Equal(new Dictionary<int, double> { [0] = 2, [1] = 1 }, NonZero("mechanism=LOGIN,server=10.0.0.1"));
            Assert.Equal(new Dictionary<int, double> { [1] = 2 }, NonZero("mechanism=AUTH=PLAIN,server=10.0.0.1"));
            Assert.Equal(new Dictionary<int, double> { [2] = 4 }, NonZero("mechanism=USER,server=10.0.0.2"));
            Assert.All(series.Values, s => Assert.Equal(16, s.PerMinute("sum").Count)); // fill(0): a number (not null) for every minute of the range, 0..15
        },

        ["dashboard/Login failure rate/A"] = () =>
        {
            var failures = Only(RunDashboard("dashboard/Login failure rate/A"), "failures").PerMinute("sum");
            Assert.Equal(new Dictionary<int, double> { [1] = 2, [2] = 5 }, failures.Where(kv => kv.Value != 0).ToDictionary());
        },
        ["dashboard/Login failure rate/B"] = () =>
        {
            var attempts = Only(RunDashboard("dashboard/Login failure rate/B"), "attempts").PerMinute("sum");
            Assert.Equal(new Dictionary<int, double> { [0] = 2, [1] = 3, [2] = 6, [3] = 2 }, attempts.Where(kv => kv.Value != 0).ToDictionary());
            var failures = Only(RunDashboard("dashboard/Login failure rate/A"), "failures").PerMinute("sum");
            Assert.Equal(attempts.Keys, failures.Keys); // same buckets, so the panel can join them by time
            Assert.Equal(5.0 / 6, failures[2] / attempts[2], 9);
        },

        ["dashboard/Top servers by cleartext logins/A"] = () =>
        {
            var top = Only(RunDashboard("dashboard/Top servers by cleartext logins/A"), "top servers");
            var rows = Enumerable.Range(0, top.Rows.Count).Select(i => (top.Text(i, "server"), top.Number(i, "top"))).OrderByDescending(r => r.Item2).ToList();
            Assert.Equal([("10.0.0.1", (double?)5), ("10.0.0.2", (double?)4)], rows);
        },

        // The latest report of each server counts (last, not sum): only 10.0.0.1 accepted cleartext logins.
        ["dashboard/Servers accepting cleartext logins/A"] = () =>
        {
            var table = Only(RunDashboard("dashboard/Servers accepting cleartext logins/A"), "servers accepting cleartext logins");
            Assert.Single(table.Rows);
            // The GROUP BY tags are the series' tags (Grafana's table format makes them columns).
            Assert.Equal(("10.0.0.1", "143", "imap", "true"), (table.Tags["server"], table.Tags["port"], table.Tags["proto"], table.Tags["inside"]));
            Assert.Equal((3.0, 5.0, 2.0, 1.0),
                (table.Number(0, "accepted"), table.Number(0, "logins"), table.Number(0, "failures"), table.Number(0, "starttls")));
        },

        // s1's logins by direction and exposure; s2's, without a direction, are not shown.
        ["dashboard/Logins by direction/A"] = () =>
        {
            var series = ByLabel(RunDashboard("dashboard/Logins by direction/A"));
            Assert.Equal(["direction=inbound,exposure=cleartext", "direction=internal,exposure=hashed", "direction=outbound,exposure=cleartext", "direction=outbound,exposure=hashed"],
                series.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new Dictionary<int, double> { [0] = 2, [1] = 3 }, series["direction=inbound,exposure=cleartext"].PerMinute("sum"));
            Assert.Equal(4, series["direction=outbound,exposure=cleartext"].Sum("sum"));
            Assert.Equal(1, series["direction=outbound,exposure=hashed"].Sum("sum"));
            Assert.Equal(new Dictionary<int, double> { [2] = 1, [3] = 1 }, series["direction=internal,exposure=hashed"].PerMinute("sum"));
        },

        ["dashboard/Brute-force episodes over time/A"] = () =>
        {
            var series = ByLabel(RunDashboard("dashboard/Brute-force episodes over time/A"));
            Assert.Equal(["kind=guessing", "kind=spraying"], series.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new Dictionary<int, double> { [2] = 1 }, series["kind=guessing"].PerMinute("count").Where(kv => kv.Value != 0).ToDictionary());
            Assert.Equal(new Dictionary<int, double> { [3] = 1 }, series["kind=spraying"].PerMinute("count").Where(kv => kv.Value != 0).ToDictionary());
        },

        ["dashboard/Brute-force episode details/A"] = () =>
        {
            var table = Only(RunDashboard("dashboard/Brute-force episode details/A"), "episodes");
            Assert.Equal(2, table.Rows.Count);
            // Newest first.
            Assert.Equal(("spraying", "10.9.9.8", "10.0.0.1", "imap", "s1", 6.0, 5.0),
                (table.Text(0, "kind"), table.Text(0, "client"), table.Text(0, "server"), table.Text(0, "proto"), table.Text(0, "sensor"), table.Number(0, "failures"), table.Number(0, "usernames")));
            Assert.Equal(("guessing", "10.9.9.9", "10.0.0.2", "pop3", 4.0, 1.0),
                (table.Text(1, "kind"), table.Text(1, "client"), table.Text(1, "server"), table.Text(1, "proto"), table.Number(1, "failures"), table.Number(1, "usernames")));
        },

        // s1: packets max per minute 100, 200, 300 | restart | 10, 20 → 100/60, 100/60, (reset skipped), 10/60 per second.
        ["dashboard/Sensor: packets per second/A"] = () =>
        {
            var series = ByLabel(RunDashboard("dashboard/Sensor: packets per second/A"));
            var s1 = series["sensor=s1"].PerMinute("packets_per_second");
            Assert.Equal([1, 2, 4], s1.Keys.Order());
            Assert.Equal(100.0 / 60, s1[1], 9);
            Assert.Equal(100.0 / 60, s1[2], 9);
            Assert.Equal(10.0 / 60, s1[4], 9);
            Assert.All(series.Values.SelectMany(s => s.PerMinute("packets_per_second").Values), v => Assert.True(v >= 0));
        },

        ["dashboard/Sensor: drops, gaps, spooled, refused and dropped points, write failures/A"] = () =>
        {
            var series = ByLabel(RunDashboard("dashboard/Sensor: drops, gaps, spooled, refused and dropped points, write failures/A"));
            var s1 = series["sensor=s1"];
            Assert.Equal(12, s1.Sum("kernel_drops"));
            Assert.Equal(1, s1.Sum("gaps"));   // max per minute 1, 1, 2 | restart | 0, 0
            Assert.Equal(4, s1.Sum("points_spooled"));
            Assert.Equal(1, s1.Sum("write_failures"));
            Assert.Equal(3, s1.Sum("points_rejected")); // 2, the restart ignored, + 1
            Assert.Equal(4, s1.Sum("points_dropped"));
            Assert.Equal(new Dictionary<int, double> { [1] = 5, [2] = 4, [4] = 3 }, s1.PerMinute("kernel_drops").Where(kv => kv.Value != 0).ToDictionary());
            foreach (var column in new[] { "kernel_drops", "gaps", "points_spooled", "points_rejected", "points_dropped", "write_failures" })
                Assert.Equal(0, series["sensor=s2"].Sum(column));
        },

        ["alert/mail-sensor-cleartext-login/A"] = () =>
        {
            var reduced = new Dictionary<string, double>();
            Assert.Equal(["mechanism=AUTH=PLAIN,proto=imap,server=10.0.0.1", "mechanism=LOGIN,proto=imap,server=10.0.0.1", "mechanism=USER,proto=pop3,server=10.0.0.2"],
                Firing("mail-sensor-cleartext-login", At(5), reduced));
            Assert.Equal(3, reduced["mechanism=LOGIN,proto=imap,server=10.0.0.1"]);
            Assert.Equal(4, reduced["mechanism=USER,proto=pop3,server=10.0.0.2"]);
            // Only the last 5 minutes count: at 2:00 the window starts before T0 and ends before the POP3 logins.
            Assert.Equal(["mechanism=AUTH=PLAIN,proto=imap,server=10.0.0.1", "mechanism=LOGIN,proto=imap,server=10.0.0.1"], Firing("mail-sensor-cleartext-login", At(2)));
            Assert.Empty(Firing("mail-sensor-cleartext-login", At(20))); // quiet again: no data is OK
        },

        ["alert/mail-sensor-bruteforce/A"] = () =>
        {
            Assert.Equal(["client=10.9.9.9,kind=guessing,proto=pop3,server=10.0.0.2"], Firing("mail-sensor-bruteforce", At(3)));
            Assert.Equal(["client=10.9.9.8,kind=spraying,proto=imap,server=10.0.0.1", "client=10.9.9.9,kind=guessing,proto=pop3,server=10.0.0.2"],
                Firing("mail-sensor-bruteforce", At(5)));
            Assert.Empty(Firing("mail-sensor-bruteforce", At(20)));
        },

        ["alert/mail-sensor-capture-drops/A"] = () =>
        {
            var reduced = new Dictionary<string, double>();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-capture-drops", At(5), reduced));
            Assert.Equal(12, reduced["sensor=s1"]); // 5 + 4, restart ignored, + 3
            // Window 2:15..7:15 holds s1's points after its restart only (190 s: 0, 250 s: 3).
            reduced.Clear();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-capture-drops", At(7, 15), reduced));
            Assert.Equal(3, reduced["sensor=s1"]);
            // Window 5:30..10:30 holds only s2's second point: no increase to see, no alert.
            Assert.Empty(Firing("mail-sensor-capture-drops", At(10, 30)));
            Assert.Empty(Firing("mail-sensor-capture-drops", At(20)));
        },

        ["alert/mail-sensor-events-lost/A"] = () =>
        {
            var reduced = new Dictionary<string, double>();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-events-lost", At(5), reduced));
            Assert.Equal(3, reduced["sensor=s1"]); // 2, the restart ignored, + 1
            reduced.Clear();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-events-lost", At(7, 15), reduced));
            Assert.Equal(1, reduced["sensor=s1"]); // after the restart only
            Assert.Empty(Firing("mail-sensor-events-lost", At(10, 30))); // s2 never lost one
            Assert.Empty(Firing("mail-sensor-events-lost", At(20)));
        },

        ["alert/mail-sensor-silent/A"] = () =>
        {
            Assert.Empty(Firing("mail-sensor-silent", At(5)));                                // both reported within 5 min
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-silent", At(15)));                // s1's last point at 4:10
            Assert.Equal(["sensor=s1", "sensor=s2"], Firing("mail-sensor-silent", At(17)));   // s2's last point at 10:00
            Assert.Equal(["sensor=s1", "sensor=s2"], Firing("mail-sensor-silent", TimeSpan.FromHours(2))); // still watched: stopped, not forgotten
            Assert.Empty(Firing("mail-sensor-silent", TimeSpan.FromHours(25)));                      // a day without health: no longer watched
            Assert.Empty(Firing("mail-sensor-silent", TimeSpan.FromMinutes(-30)));                   // before any sensor_health (a read-only site): no alert
        },

        ["alert/mail-sensor-points-lost/A"] = () =>
        {
            var reduced = new Dictionary<string, double>();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-points-lost", At(5), reduced));
            Assert.Equal(7, reduced["sensor=s1"]); // refused 2, the restart ignored, + 1; dropped 4
            reduced.Clear();
            Assert.Equal(["sensor=s1"], Firing("mail-sensor-points-lost", At(7, 15), reduced));
            Assert.Equal(5, reduced["sensor=s1"]); // after the restart only: 1 + 4
            Assert.Empty(Firing("mail-sensor-points-lost", At(10, 30))); // s2 lost none
            Assert.Empty(Firing("mail-sensor-points-lost", At(20)));
        },
    };

    public static TheoryData<string> QueryKeys() => new(AllQueries().Select(q => q.Key));

    [Theory]
    [MemberData(nameof(QueryKeys))]
    public void QueryReturnsTheExpectedNumbersForTheKnownData(string key)
    {
        Assert.True(Expectations().TryGetValue(key, out var expectation),
            $"{key} has no expected result in {nameof(InfluxQlQueryTests)}: add one for the known data");
        expectation!();
    }

    [Fact]
    public void EveryQueryOfTheDashboardAndTheAlertRulesRunsAndFindsTheKnownData()
    {
        var queries = AllQueries();
        Assert.NotEmpty(queries);
        foreach (var q in queries)
        {
            var result = Run(q, q.LookbackFrom is null ? DashboardNow : At(5));
            Assert.True(result.Count > 0 && result.All(s => s.Rows.Count > 0), $"{q.Key} found nothing in the known data:\n{Substitute(q, DashboardNow)}");
        }
    }

    [Fact]
    public void TheSensorVariableListsTheSensorsAndNarrowsThePanelsToThem()
    {
        var variable = Objects(LoadDashboard()["templating"]?["list"]).Single(v => Str(v["name"]) == "sensor");
        using var doc = data.Server.Query(Database, Str(variable["query"])!);
        var values = doc.RootElement.GetProperty("results")[0].GetProperty("series").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray().Select(v => v[1].GetString()!)).ToHashSet();
        Assert.Equal(["s1", "s2"], values.Order(StringComparer.Ordinal));

        // s2 only: its one login (EXTERNAL), none of s1's cleartext logins, brute force or health.
        Assert.Empty(RunDashboard("dashboard/Cleartext logins/A", DashboardNow, "s2"));
        Assert.Empty(RunDashboard("dashboard/Brute-force episodes/A", DashboardNow, "s2"));
        Assert.Equal(1, Only(RunDashboard("dashboard/Login failure rate/B", DashboardNow, "s2"), "attempts").Sum("sum"));
        Assert.Equal(["sensor=s2"], ByLabel(RunDashboard("dashboard/Sensor: packets per second/A", DashboardNow, "s2")).Keys);
        Assert.Equal(9, Single(RunDashboard("dashboard/Cleartext logins/A", DashboardNow, "s1"), "s1's cleartext logins"));
    }

    [Fact]
    public void TheExpectationsCoverExactlyTheQueriesInTheFiles()
    {
        var keys = AllQueries().Select(q => q.Key).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(keys.Order(StringComparer.Ordinal), Expectations().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheServerRejectsABrokenQuerySoTheseTestsWouldNotice()
    {
        var broken = new GrafanaQuery("broken", "A", "SELECT sum(\"count\") FROM \"mail_auth\" WHERE $timeFilter GROUP BY time($__interval) fill(", null, null);
        Assert.ThrowsAny<Exception>(() => Run(broken, DashboardNow)); // 400 from the server
        var misspelt = new GrafanaQuery("misspelt", "A", "SELECT sum(\"count\") FROM \"mail_auths\" WHERE $timeFilter", null, null);
        Assert.Empty(Run(misspelt, DashboardNow)); // a wrong measurement is no error in InfluxQL, only empty: hence the expected numbers
    }
}
