using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static Sensor.Integration.Tests.Grafana.GrafanaProvisioning;

namespace Sensor.Integration.Tests.Grafana;

/// <summary>
/// The Grafana files in config/grafana hang together: they parse, the data sources carry the uids the
/// dashboard and the alert rules refer to, every query reads only what the sensor writes, every alert
/// rule's steps reference each other correctly, and the notification policy sends to a contact
/// point that exists. (That the queries run and give the right numbers: <see cref="InfluxQlQueryTests"/>.)
/// </summary>
public sealed class ProvisioningTests
{
    private static readonly string[] ProvisionedUids = [FluxUid, InfluxQlUid];

    private static JsonNode Datasources => LoadYaml(DatasourcesFile);
    private static JsonNode Alerting => LoadYaml(AlertingFile);

    private static JsonObject Datasource(string uid) =>
        Objects(Datasources["datasources"]).Single(d => Str(d["uid"]) == uid);

    [Fact]
    public void EveryFileParsesAndTheProvisioningFilesAreApiVersion1()
    {
        foreach (var file in new[] { DatasourcesFile, DashboardProviderFile, AlertingFile, NotificationsFile })
        {
            var yaml = LoadYaml(file);
            Assert.True(Str(yaml["apiVersion"]) == "1", $"{file}: apiVersion is {Str(yaml["apiVersion"]) ?? "missing"}, Grafana reads 1");
        }
        var dashboard = LoadDashboard();
        Assert.IsType<JsonObject>(dashboard);
        // Nothing else in the folders that Grafana would try to load and fail on.
        foreach (var f in Directory.EnumerateFiles(Path.Combine(Dir, "provisioning"), "*", SearchOption.AllDirectories))
            Assert.True(f.EndsWith(".yaml") || f.EndsWith(".yml"), "unexpected file in provisioning/: " + f);
        foreach (var f in Directory.EnumerateFiles(Path.Combine(Dir, "dashboards")))
            JsonNode.Parse(File.ReadAllText(f));
    }

    [Fact]
    public void TheTwoDatasourcesHaveTheirFixedUidsTypesAndSettings()
    {
        var all = Objects(Datasources["datasources"]).ToList();
        Assert.Equal(ProvisionedUids.Order(), all.Select(d => Str(d["uid"])).Order());
        Assert.Equal(all.Count, all.Select(d => Str(d["name"])).Distinct().Count());
        foreach (var d in all)
        {
            Assert.Equal("influxdb", Str(d["type"]));
            Assert.Equal("proxy", Str(d["access"]));
            Assert.False(string.IsNullOrEmpty(Str(d["name"])));
        }

        var flux = Datasource(FluxUid);
        Assert.Equal("Flux", Str(flux["jsonData"]?["version"]));
        Assert.Equal("http://localhost:8086", Str(flux["url"]));
        Assert.False(string.IsNullOrWhiteSpace(Str(flux["jsonData"]?["organization"])), "Flux needs jsonData.organization");
        Assert.Equal("mail_sensor", Str(flux["jsonData"]?["defaultBucket"]));
        Assert.Equal("${INFLUX_TOKEN}", Str(flux["secureJsonData"]?["token"]));

        var influxql = Datasource(InfluxQlUid);
        Assert.Equal("http://localhost:8086", Str(influxql["url"]));
        // jsonData.version absent also means InfluxQL; if present it must say so.
        Assert.Equal("InfluxQL", Str(influxql["jsonData"]?["version"]) ?? "InfluxQL");
        var database = Str(influxql["jsonData"]?["dbName"]) ?? Str(influxql["database"]);
        Assert.Equal("mail_sensor", database);
        if (influxql["database"] is not null) Assert.Equal("mail_sensor", Str(influxql["database"]));
        // No secret in the file: the token only as a placeholder Grafana expands from its environment.
        foreach (var d in all)
            foreach (var (_, v) in d["secureJsonData"] as JsonObject ?? [])
                Assert.Matches(@"\$\{[A-Z_]+\}", Str(v) ?? "");
    }

    [Fact]
    public void TheDashboardProviderLoadsTheDashboardsFolderFromFiles()
    {
        var providers = Objects(LoadYaml(DashboardProviderFile)["providers"]).ToList();
        var provider = Assert.Single(providers);
        Assert.Equal("file", Str(provider["type"]));
        Assert.False(string.IsNullOrWhiteSpace(Str(provider["name"])));
        var path = Str(provider["options"]?["path"]);
        Assert.True(path is not null && Path.IsPathRooted(path), $"options.path must be an absolute folder, is '{path}'");
        Assert.True(File.Exists(DashboardFile));
        Assert.Contains(DashboardFile, Directory.GetFiles(Path.Combine(Dir, "dashboards"), "*.json"));
    }

    [Fact]
    public void TheDashboardIsAGrafanaDashboardWithEveryRequiredPanel()
    {
        var d = LoadDashboard();
        Assert.Equal("mail-sensor", Str(d["uid"]));
        Assert.False(string.IsNullOrWhiteSpace(Str(d["title"])));
        var schema = Long(d["schemaVersion"]);
        Assert.True(schema is >= 36 and <= 41, $"schemaVersion {schema}");
        var panels = Panels(d).ToList();
        Assert.NotEmpty(panels);
        Assert.Equal(panels.Count, panels.Select(p => Long(p["id"])).Distinct().Count());
        Assert.Equal(panels.Count, panels.Select(p => Str(p["title"])).Distinct().Count());
        foreach (var p in panels)
        {
            Assert.False(string.IsNullOrWhiteSpace(Str(p["type"])));
            Assert.False(string.IsNullOrWhiteSpace(Str(p["title"])));
            foreach (var k in new[] { "x", "y", "w", "h" }) Assert.NotNull(Long(p["gridPos"]?[k]));
            Assert.True(Long(p["gridPos"]!["x"]) + Long(p["gridPos"]!["w"]) <= 24, Str(p["title"]) + " is wider than the grid");
        }

        static string Queries(JsonObject p) => string.Join("\n", Objects(p["targets"]).Select(t => Str(t["query"])));
        JsonObject PanelTitled(string words) =>
            panels.FirstOrDefault(p => (Str(p["title"]) ?? "").Contains(words, StringComparison.OrdinalIgnoreCase))
            ?? throw new Xunit.Sdk.XunitException($"no panel titled '…{words}…'");

        var cleartext = PanelTitled("cleartext logins by server and mechanism");
        Assert.Equal("timeseries", Str(cleartext["type"]));
        Assert.Contains(
            "SELECT sum(\"count\") FROM \"mail_auth\" WHERE \"exposure\"='cleartext' AND \"sensor\" =~ /^$sensor$/ AND $timeFilter GROUP BY time($__interval), \"server\", \"mechanism\" fill(0)",
            Queries(cleartext));

        var failures = PanelTitled("failure rate");
        Assert.Contains("\"outcome\"='failure'", Queries(failures));
        Assert.Contains("FROM \"mail_auth\"", Queries(failures));

        var starttls = PanelTitled("STARTTLS share");
        Assert.Contains("FROM \"mail_starttls\" WHERE \"outcome\"='success'", Queries(starttls));
        Assert.Contains("\"exposure\"='cleartext'", Queries(starttls));

        var top = PanelTitled("top servers");
        Assert.Equal("table", Str(top["type"]));
        Assert.Contains("\"exposure\"='cleartext'", Queries(top));

        Assert.Contains(panels, p => Queries(p).Contains("FROM \"mail_bruteforce\""));

        var health = string.Join("\n", panels.Select(Queries).Where(q => q.Contains("FROM \"sensor_health\"")));
        foreach (var field in new[] { "packets", "kernel_drops", "gaps", "points_spooled", "points_rejected", "points_dropped", "write_failures" })
            Assert.True(health.Contains($"\"{field}\""), $"no sensor_health panel shows {field}");
    }

    [Fact]
    public void EveryPanelAndTargetUsesAProvisionedDatasource()
    {
        foreach (var p in Panels(LoadDashboard()).Where(p => Str(p["type"]) != "row"))
        {
            var title = Str(p["title"]);
            var uid = Str(p["datasource"]?["uid"]);
            Assert.True(uid is not null && ProvisionedUids.Contains(uid), $"panel '{title}': datasource uid '{uid}' is not provisioned");
            Assert.Equal("influxdb", Str(p["datasource"]?["type"]));
            Assert.NotEmpty(Objects(p["targets"]));
            foreach (var t in Objects(p["targets"]))
            {
                var tuid = Str(t["datasource"]?["uid"]) ?? uid; // a target without one uses the panel's
                Assert.True(ProvisionedUids.Contains(tuid), $"panel '{title}' target {Str(t["refId"])}: datasource uid '{tuid}' is not provisioned");
            }
        }
    }

    [Fact]
    public void EveryDashboardTargetHasARefIdAndARawQueryOverTheSensorsMeasurementsOnly()
    {
        var problems = new List<string>();
        foreach (var p in Panels(LoadDashboard()).Where(p => Str(p["type"]) != "row"))
        {
            var refIds = new HashSet<string>();
            foreach (var t in Objects(p["targets"]))
            {
                var where = $"panel '{Str(p["title"])}' target {Str(t["refId"])}";
                var refId = Str(t["refId"]);
                if (string.IsNullOrWhiteSpace(refId)) problems.Add(where + ": no refId");
                else if (!refIds.Add(refId)) problems.Add(where + ": refId used twice in the panel");
                if (Str(t["rawQuery"]) != "true") problems.Add(where + ": rawQuery is not true");
                problems.AddRange(SchemaProblems(Str(t["query"]) ?? "").Select(x => $"{where}: {x}"));
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryAlertRuleHasTheRequiredFields()
    {
        var groups = Objects(Alerting["groups"]).ToList();
        Assert.NotEmpty(groups);
        foreach (var g in groups)
        {
            Assert.False(string.IsNullOrWhiteSpace(Str(g["name"])), "group without name");
            Assert.False(string.IsNullOrWhiteSpace(Str(g["folder"])), $"group {Str(g["name"])} without folder");
            Assert.Matches(@"^\d+[smh]$", Str(g["interval"]) ?? "");
            Assert.NotEmpty(Objects(g["rules"]));
        }
        var rules = AlertRules(Alerting).ToList();
        Assert.Equal(rules.Count, rules.Select(r => Str(r["uid"])).Distinct().Count());
        Assert.Equal(rules.Count, rules.Select(r => Str(r["title"])).Distinct().Count());
        foreach (var r in rules)
        {
            var uid = Str(r["uid"]);
            Assert.True(uid is { Length: > 0 and <= 40 } && Regex.IsMatch(uid, "^[A-Za-z0-9_-]+$"), $"bad rule uid '{uid}'");
            Assert.False(string.IsNullOrWhiteSpace(Str(r["title"])), uid + ": no title");
            Assert.False(string.IsNullOrWhiteSpace(Str(r["condition"])), uid + ": no condition");
            Assert.NotEmpty(Objects(r["data"]));
            Assert.Contains(Str(r["noDataState"]), new[] { "Alerting", "NoData", "OK" });
            Assert.Contains(Str(r["execErrState"]), new[] { "Alerting", "Error", "OK" });
            Assert.Matches(@"^\d+[smh]$", Str(r["for"]) ?? "");
            Assert.False(string.IsNullOrWhiteSpace(Str(r["annotations"]?["summary"])), uid + ": no summary annotation");
            foreach (var d in Objects(r["data"]))
            {
                Assert.False(string.IsNullOrWhiteSpace(Str(d["refId"])), uid + ": data entry without refId");
                Assert.Equal(Str(d["refId"]), Str(d["model"]?["refId"]));
                var from = Long(d["relativeTimeRange"]?["from"]);
                var to = Long(d["relativeTimeRange"]?["to"]);
                Assert.True(from is not null && to is not null && from >= to, $"{uid}/{Str(d["refId"])}: relativeTimeRange from/to missing or reversed");
            }
        }
    }

    [Fact]
    public void EveryAlertConditionNamesARefIdOfItsRule()
    {
        foreach (var r in AlertRules(Alerting))
        {
            var refIds = Objects(r["data"]).Select(d => Str(d["refId"])).ToList();
            Assert.Equal(refIds.Count, refIds.Distinct().Count());
            Assert.True(refIds.Contains(Str(r["condition"])),
                $"rule {Str(r["uid"])}: condition '{Str(r["condition"])}' is none of its refIds {string.Join(",", refIds)}");
        }
    }

    [Fact]
    public void EveryAlertQueryUsesAProvisionedDatasourceOrTheExpressionEngine()
    {
        var problems = new List<string>();
        foreach (var r in AlertRules(Alerting))
        {
            var queries = 0;
            foreach (var d in Objects(r["data"]))
            {
                var where = $"rule {Str(r["uid"])}/{Str(d["refId"])}";
                var uid = Str(d["datasourceUid"]);
                if (uid == ExpressionUid) continue;
                queries++;
                if (uid is null || !ProvisionedUids.Contains(uid)) { problems.Add($"{where}: datasourceUid '{uid}' is not provisioned"); continue; }
                if (uid != InfluxQlUid) problems.Add($"{where}: expected the InfluxQL data source");
                if (Str(d["model"]?["rawQuery"]) != "true") problems.Add(where + ": rawQuery is not true");
                if (Long(d["relativeTimeRange"]?["from"]) is not > 0) problems.Add(where + ": a query needs relativeTimeRange.from > 0");
                problems.AddRange(SchemaProblems(Str(d["model"]?["query"]) ?? "").Select(x => $"{where}: {x}"));
            }
            if (queries == 0) problems.Add($"rule {Str(r["uid"])} queries no data source");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryExpressionStepReferencesAnEarlierRefIdAndTheConditionIsAThreshold()
    {
        var problems = new List<string>();
        foreach (var r in AlertRules(Alerting))
        {
            var seen = new HashSet<string>();
            foreach (var d in Objects(r["data"]))
            {
                var refId = Str(d["refId"]) ?? "";
                var where = $"rule {Str(r["uid"])}/{refId}";
                if (Str(d["datasourceUid"]) == ExpressionUid)
                {
                    var model = d["model"] as JsonObject;
                    var type = Str(model?["type"]);
                    if (Str(model?["datasource"]?["uid"]) is { } u && u != ExpressionUid) problems.Add($"{where}: model.datasource.uid is '{u}'");
                    var refs = type switch
                    {
                        "reduce" or "threshold" or "resample" => [Str(model!["expression"]) ?? ""],
                        "math" => Regex.Matches(Str(model!["expression"]) ?? "", @"\$\{?([A-Za-z0-9_]+)\}?").Select(m => m.Groups[1].Value).ToList(),
                        _ => null,
                    };
                    if (refs is null) { problems.Add($"{where}: unknown expression type '{type}'"); continue; }
                    if (refs.Count == 0) problems.Add($"{where}: references no refId");
                    foreach (var x in refs.Where(x => !seen.Contains(x)))
                        problems.Add($"{where}: references '{x}', which is no earlier refId of the rule");
                    if (type == "reduce" && Str(model!["reducer"]) is not ("last" or "max" or "min" or "sum" or "mean" or "count"))
                        problems.Add($"{where}: unknown reducer '{Str(model!["reducer"])}'");
                    if (type == "threshold")
                        foreach (var c in Objects(model!["conditions"]).DefaultIfEmpty(new JsonObject()))
                            if (Str(c["evaluator"]?["type"]) is not ("gt" or "lt") || (c["evaluator"]?["params"] as JsonArray)?.Count != 1)
                                problems.Add($"{where}: threshold needs an evaluator gt or lt with one parameter");
                }
                seen.Add(refId);
            }
            var condition = Objects(r["data"]).FirstOrDefault(d => Str(d["refId"]) == Str(r["condition"]));
            if (condition is null || Str(condition["datasourceUid"]) != ExpressionUid || Str(condition["model"]?["type"]) != "threshold")
                problems.Add($"rule {Str(r["uid"])}: its condition is not a threshold expression");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheRequiredAlertRulesAreThere()
    {
        var rules = AlertRules(Alerting).ToList();
        string Query(JsonObject r) => string.Join("\n", Objects(r["data"]).Select(d => Str(d["model"]?["query"])).Where(q => q is not null));
        JsonObject RuleReading(Func<string, bool> match, string what) =>
            rules.FirstOrDefault(r => match(Query(r))) ?? throw new Xunit.Sdk.XunitException("no alert rule for " + what);
        static (string Type, double Limit) Threshold(JsonObject r)
        {
            var c = Objects(r["data"]).Single(d => Str(d["refId"]) == Str(r["condition"]));
            var e = c["model"]!["conditions"]![0]!["evaluator"]!;
            return (Str(e["type"])!, double.Parse(Str(e["params"]![0])!, System.Globalization.CultureInfo.InvariantCulture));
        }
        static long Lookback(JsonObject r) => Objects(r["data"]).Where(d => Str(d["datasourceUid"]) != ExpressionUid)
            .Max(d => Long(d["relativeTimeRange"]!["from"]) ?? 0);

        var cleartext = RuleReading(q => q.Contains("FROM \"mail_auth\"") && q.Contains("\"exposure\"='cleartext'"), "cleartext logins");
        Assert.Equal(("gt", 0.0), Threshold(cleartext));
        Assert.Equal(300, Lookback(cleartext));

        var brute = RuleReading(q => q.Contains("FROM \"mail_bruteforce\""), "brute force");
        Assert.Equal(("gt", 0.0), Threshold(brute));
        Assert.Equal(300, Lookback(brute));

        var drops = RuleReading(q => q.Contains("\"kernel_drops\""), "kernel drops");
        Assert.Equal(("gt", 0.0), Threshold(drops));
        Assert.Equal(300, Lookback(drops));
        // A cumulative counter: the rule must look at its increase, never at its value.
        Assert.Matches(@"non_negative_difference\(|max\(""kernel_drops""\)\s*-\s*min\(""kernel_drops""\)|spread\(""kernel_drops""\)", Query(drops));

        var silent = RuleReading(q => q.Contains("FROM \"sensor_health\"") && q.Contains("count("), "a silent sensor");
        Assert.Equal(("lt", 1.0), Threshold(silent));
        // Only sensors that send sensor_health have a series to alert on: a site that only pushes from
        // `sensor read` has none, and no data must not alert there.
        Assert.Equal("OK", Str(silent["noDataState"]));

        var pointsLost = RuleReading(q => q.Contains("\"points_dropped\"") && q.Contains("\"points_rejected\""), "dropped or refused metric points");
        Assert.Equal(("gt", 0.0), Threshold(pointsLost));
        Assert.Matches(@"non_negative_difference\(""points_dropped""\).*non_negative_difference\(""points_rejected""\)", Query(pointsLost));

        Assert.Equal(5, new[] { cleartext, brute, drops, silent, pointsLost }.Distinct().Count());
    }

    [Fact]
    public void AlertRulesLinkToPanelsOfTheDashboard()
    {
        var dashboard = LoadDashboard();
        var panelIds = Panels(dashboard).Select(p => Long(p["id"])).ToHashSet();
        foreach (var r in AlertRules(Alerting))
        {
            if (r["dashboardUid"] is null) continue;
            Assert.Equal(Str(dashboard["uid"]), Str(r["dashboardUid"]));
            Assert.True(panelIds.Contains(Long(r["panelId"])), $"rule {Str(r["uid"])}: panelId {Str(r["panelId"])} is no panel of the dashboard");
        }
    }

    [Fact]
    public void TheRulesAloneNeverReplaceASitesNotificationPolicies()
    {
        // Grafana's provisioned `policies` replace the organisation's whole policy tree: the rules file,
        // which every site copies, must hold none, nor a contact point; the optional file holds them.
        Assert.Null(Alerting["policies"]);
        Assert.Null(Alerting["contactPoints"]);
        Assert.NotEmpty(AlertRules(Alerting));
        Assert.False(NotificationsFile.StartsWith(Path.Combine(Dir, "provisioning") + Path.DirectorySeparatorChar, StringComparison.Ordinal),
            "the notification policy must not sit where `cp -r config/grafana/provisioning/*` would load it");
        Assert.Empty(AlertRules(LoadYaml(NotificationsFile)));
    }

    [Fact]
    public void EveryDashboardQueryIsNarrowedByTheSensorVariable()
    {
        var d = LoadDashboard();
        var variable = Assert.Single(Objects(d["templating"]?["list"]), v => Str(v["name"]) == "sensor");
        Assert.Equal("query", Str(variable["type"]));
        Assert.Equal(InfluxQlUid, Str(variable["datasource"]?["uid"]));
        Assert.Equal("true", Str(variable["includeAll"]));
        Assert.Equal("true", Str(variable["multi"]));
        foreach (var q in DashboardQueries(d))
            Assert.True(q.Query.Contains("\"sensor\" =~ /^$sensor$/"), $"{q.Key} does not follow the sensor variable: {q.Query}");
    }

    [Fact]
    public void TheNotificationPolicySendsToProvisionedContactPoints()
    {
        var alerting = LoadYaml(NotificationsFile);
        var contactPoints = Objects(alerting["contactPoints"]).ToList();
        Assert.NotEmpty(contactPoints);
        var names = contactPoints.Select(c => Str(c["name"])).ToHashSet();
        Assert.Equal(contactPoints.Count, names.Count);
        foreach (var c in contactPoints)
        {
            var receivers = Objects(c["receivers"]).ToList();
            Assert.NotEmpty(receivers);
            foreach (var rc in receivers)
            {
                Assert.False(string.IsNullOrWhiteSpace(Str(rc["uid"])), $"contact point {Str(c["name"])}: receiver without uid");
                Assert.Contains(Str(rc["type"]), new[] { "webhook", "email" });
                var setting = Str(rc["type"]) == "webhook" ? Str(rc["settings"]?["url"]) : Str(rc["settings"]?["addresses"]);
                Assert.False(string.IsNullOrWhiteSpace(setting), $"contact point {Str(c["name"])}: no url/addresses");
            }
        }

        var policy = Assert.Single(Objects(alerting["policies"]));
        var receiversUsed = new List<string?>();
        void Walk(JsonObject route)
        {
            if (route["receiver"] is not null) receiversUsed.Add(Str(route["receiver"]));
            foreach (var child in Objects(route["routes"])) Walk(child);
        }
        Walk(policy);
        Assert.NotNull(Str(policy["receiver"])); // the root route needs a receiver
        foreach (var r in receiversUsed)
            Assert.True(names.Contains(r), $"the notification policy sends to '{r}', which is no provisioned contact point ({string.Join(", ", names)})");
    }
}
