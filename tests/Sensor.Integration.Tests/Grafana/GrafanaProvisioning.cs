using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Sensor.Integration.Tests.Grafana;

/// <summary>One InfluxQL query found in the dashboard or in an alert rule.</summary>
/// <param name="Key">`dashboard/&lt;panel title&gt;/&lt;refId&gt;` or `alert/&lt;rule uid&gt;/&lt;refId&gt;`.</param>
/// <param name="LookbackFrom">For alert rules relativeTimeRange.from in seconds (the query covers now-from .. now-to); null for the dashboard.</param>
/// <param name="LookbackTo">For alert rules relativeTimeRange.to in seconds; null for the dashboard.</param>
public sealed record GrafanaQuery(string Key, string RefId, string Query, long? LookbackFrom, long? LookbackTo);

/// <summary>
/// The Grafana files under config/grafana, read the way Grafana reads them (YAML with YamlDotNet,
/// turned into JSON nodes so the tests navigate both kinds of file alike), and the metric schema the
/// sensor writes, which every query must stay within.
/// </summary>
public static class GrafanaProvisioning
{
    public static string Dir => Path.Combine(RepoPaths.Root, "config", "grafana");
    public static string DatasourcesFile => Path.Combine(Dir, "provisioning", "datasources", "mail-sensor.yaml");
    public static string DashboardProviderFile => Path.Combine(Dir, "provisioning", "dashboards", "mail-sensor.yaml");
    public static string AlertingFile => Path.Combine(Dir, "provisioning", "alerting", "mail-sensor.yaml");
    /// <summary>The contact point and notification policy: optional, outside provisioning/ so that copying that folder never loads them.</summary>
    public static string NotificationsFile => Path.Combine(Dir, "optional", "alerting", "mail-sensor-notifications.yaml");
    public static string DashboardFile => Path.Combine(Dir, "dashboards", "mail-sensor.json");

    public const string FluxUid = "mail-sensor-flux";
    public const string InfluxQlUid = "mail-sensor-influxql";
    public const string ExpressionUid = "__expr__";

    /// <summary>Measurement → its tag keys and field keys, as the sensor writes them.</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Tags, string[] Fields)> Schema =
        new Dictionary<string, (string[], string[])>
        {
            ["mail_auth"] = (["sensor", "proto", "server", "tenant", "mechanism", "exposure", "outcome", "direction"], ["count"]),
            ["mail_server"] = (["sensor", "proto", "server", "tenant", "port", "inside"],
                ["cleartext_logins_accepted", "cleartext_logins", "logins", "failures", "starttls_offered", "login_disabled", "starttls_upgrades"]),
            ["mail_starttls"] = (["sensor", "proto", "server", "tenant", "outcome"], ["count"]),
            ["mail_bruteforce"] = (["sensor", "proto", "server", "tenant", "client", "kind"], ["failures", "usernames"]),
            ["sensor_health"] = (["sensor"],
                ["packets", "bytes", "kernel_drops", "interface_drops", "flows", "buffered_bytes", "gaps",
                 "events_written", "events_lost", "points_written", "points_spooled", "points_pending", "points_rejected",
                 "points_dropped", "write_failures", "analyzer_faults", "fragments_lost", "encapsulations_skipped",
                 "guessing_clients", "guessing_usernames", "guessing_evicted", "servers_tracked", "servers_evicted"]),
        };

    /// <summary>The values a tag with a closed set of values can take.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> TagValues = new Dictionary<string, string[]>
    {
        ["proto"] = ["imap", "pop3", "smtp"],
        ["exposure"] = ["cleartext", "hashed", "none", "unknown"],
        ["outcome"] = ["success", "failure", "unknown"],
        ["kind"] = ["guessing", "spraying"],
        ["direction"] = ["outbound", "inbound", "internal", "external"],
        ["inside"] = ["true", "false"],
        ["mechanism"] = [.. Sensor.Outputs.Metrics.MechanismTag.Values],
    };

    public static JsonNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        Assert.True(stream.Documents.Count == 1, $"{path}: expected one YAML document, found {stream.Documents.Count}");
        return ToJson(stream.Documents[0].RootNode) ?? throw new InvalidDataException(path + " is empty");
    }

    public static JsonNode LoadDashboard() =>
        JsonNode.Parse(File.ReadAllText(DashboardFile)) ?? throw new InvalidDataException(DashboardFile + " is empty");

    /// <summary>YAML scalars become JSON strings (the tests parse numbers where they expect them).</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "" or "~" or "null" } => null,
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidDataException("unsupported YAML node " + node.NodeType),
    };

    public static string? Str(JsonNode? node) => node?.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => node.GetValue<string>(),
        System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => node.ToJsonString(),
        _ => null,
    };

    public static long? Long(JsonNode? node) => long.TryParse(Str(node), out var v) ? v : null;

    public static IEnumerable<JsonObject> Objects(JsonNode? array) =>
        (array as JsonArray)?.Select(n => n as JsonObject ?? throw new InvalidDataException("expected an object: " + n?.ToJsonString())) ?? [];

    /// <summary>Panels, including those nested in collapsed rows.</summary>
    public static IEnumerable<JsonObject> Panels(JsonNode dashboard)
    {
        foreach (var p in Objects(dashboard["panels"]))
        {
            yield return p;
            foreach (var inner in Objects(p["panels"])) yield return inner;
        }
    }

    public static IEnumerable<JsonObject> AlertRules(JsonNode alerting) =>
        Objects(alerting["groups"]).SelectMany(g => Objects(g["rules"]));

    public static IReadOnlyList<GrafanaQuery> DashboardQueries(JsonNode dashboard) =>
        Panels(dashboard).Where(p => Str(p["type"]) != "row")
            .SelectMany(p => Objects(p["targets"]).Select(t => new GrafanaQuery(
                $"dashboard/{Str(p["title"])}/{Str(t["refId"])}", Str(t["refId"]) ?? "", Str(t["query"]) ?? "", null, null)))
            .ToList();

    /// <summary>The data-source queries of the alert rules (not the expression steps).</summary>
    public static IReadOnlyList<GrafanaQuery> AlertQueries(JsonNode alerting) =>
        AlertRules(alerting)
            .SelectMany(r => Objects(r["data"])
                .Where(d => Str(d["datasourceUid"]) != ExpressionUid)
                .Select(d => new GrafanaQuery(
                    $"alert/{Str(r["uid"])}/{Str(d["refId"])}", Str(d["refId"]) ?? "", Str(d["model"]?["query"]) ?? "",
                    Long(d["relativeTimeRange"]?["from"]), Long(d["relativeTimeRange"]?["to"]))))
            .ToList();

    public static IReadOnlyList<GrafanaQuery> AllQueries() =>
        [.. DashboardQueries(LoadDashboard()), .. AlertQueries(LoadYaml(AlertingFile))];

    private static readonly Regex FromMeasurement = new(@"\bFROM\s+(?:""(?<q>[^""]+)""|(?<u>[A-Za-z_][\w.]*))", RegexOptions.IgnoreCase);
    private static readonly Regex QuotedIdentifier = new(@"""([^""]*)""");
    private static readonly Regex Alias = new(@"\bAS\s+""([^""]+)""", RegexOptions.IgnoreCase);
    private static readonly Regex TagComparison = new(@"""(\w+)""\s*(?:=|!=|<>)\s*'([^']*)'");

    /// <summary>
    /// What is wrong with a query against the sensor's schema: it reads no measurement or one the sensor
    /// does not write, names a tag or field that those measurements do not have, or compares a tag
    /// with a value the sensor never writes. Empty when it is fine.
    /// </summary>
    public static List<string> SchemaProblems(string query)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(query)) return ["empty query"];
        var measurements = FromMeasurement.Matches(query)
            .Select(m => m.Groups["q"].Success ? m.Groups["q"].Value : m.Groups["u"].Value).ToList();
        if (measurements.Count == 0) problems.Add("reads no measurement");
        foreach (var m in measurements.Where(m => !Schema.ContainsKey(m)))
            problems.Add($"reads measurement '{m}', which the sensor does not write");

        var known = new HashSet<string>(measurements.Where(Schema.ContainsKey));
        foreach (var m in known.ToList())
        {
            known.UnionWith(Schema[m].Tags);
            known.UnionWith(Schema[m].Fields);
        }
        known.UnionWith(Alias.Matches(query).Select(m => m.Groups[1].Value));
        foreach (var id in QuotedIdentifier.Matches(query).Select(m => m.Groups[1].Value).Distinct())
            if (!known.Contains(id)) problems.Add($"names \"{id}\", which is no tag, field or alias of {string.Join(", ", measurements)}");

        foreach (Match c in TagComparison.Matches(query))
            if (TagValues.TryGetValue(c.Groups[1].Value, out var values) && !values.Contains(c.Groups[2].Value))
                problems.Add($"compares \"{c.Groups[1].Value}\" with '{c.Groups[2].Value}', a value the sensor never writes ({string.Join("|", values)})");
        return problems;
    }
}
