using System.Text.Json.Nodes;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Core.Events;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Outputs.EventLog;

namespace Sensor.Integration.Tests;

/// <summary>
/// Every capture in pcaps/ has its expected events beside it (NAME.expected.jsonl, written from how
/// the capture was made, not from the sensor's output). Each expected object lists the fields to
/// compare; the sensor must report exactly those events, no more, no fewer.
/// </summary>
public sealed class GoldenCaptureTests
{
    internal static List<string> CaptureList() =>
        Directory.EnumerateFiles(RepoPaths.Pcaps, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pcap") || f.EndsWith(".pcapng"))
            .Select(f => Path.GetRelativePath(RepoPaths.Pcaps, f))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static TheoryData<string> Captures() => new(CaptureList());

    [Fact]
    public void EveryBundledCaptureHasItsExpectedEvents()
    {
        var missing = CaptureList().Where(c => !File.Exists(ExpectedPath(c))).ToList();
        Assert.Empty(missing);
        Assert.True(CaptureList().Count >= 6);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void CaptureYieldsExactlyItsExpectedEvents(string capture)
    {
        var expected = File.ReadAllLines(ExpectedPath(capture))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToList();
        bool reveal = expected.Any(e => e["auth"]?["secret"] is not null);
        var actual = Analyse(Path.Combine(RepoPaths.Pcaps, capture), reveal);

        // Project every event onto the union of the expected fields, then compare as multisets:
        // the same events, each exactly as often.
        var template = expected.Count > 0 ? Union(expected) : new JsonObject();
        var actualKeys = actual.Select(a => Canonical(Project(a, template))).Order(StringComparer.Ordinal).ToList();
        var expectedKeys = expected.Select(e => Canonical(Project(e, template))).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedKeys, actualKeys);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void SecretsAppearNowhereUnlessAsked(string capture)
    {
        var secrets = File.ReadAllLines(ExpectedPath(capture))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!["auth"]?["secret"]?.GetValue<string>())
            .Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4)
            .ToList();
        var run = SensorProcess.Run("read", "--json", Path.Combine(RepoPaths.Pcaps, capture));
        // Look at values, not raw text: a password may well be the word "secret", which is also a key.
        var values = run.StdOutLines.SelectMany(l => StringValues(JsonNode.Parse(l)!)).ToList();
        foreach (var s in secrets)
        {
            Assert.DoesNotContain(values, v => v.Contains(s!, StringComparison.Ordinal));
            Assert.DoesNotContain(s!, run.StdErr);
        }
        foreach (var line in run.StdOutLines)
        {
            var e = JsonNode.Parse(line)!;
            if ((string?)e["event_type"] == "auth") Assert.Equal("[redacted]", (string?)e["auth"]!["secret"]);
        }
    }

    private static IEnumerable<string> StringValues(JsonNode node) => node switch
    {
        JsonObject o => o.SelectMany(kv => kv.Value is null ? [] : StringValues(kv.Value)),
        JsonArray a => a.SelectMany(v => v is null ? [] : StringValues(v)),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };

    private static string ExpectedPath(string capture)
    {
        var full = Path.Combine(RepoPaths.Pcaps, capture);
        var stem = full.EndsWith(".pcapng") ? full[..^".pcapng".Length] : full[..^".pcap".Length];
        return stem + ".expected.jsonl";
    }

    internal static List<JsonObject> Analyse(string path, bool reveal)
    {
        var sink = new CollectingSink();
        var pipeline = new PacketPipeline(new AnalysisOptions { RevealSecrets = reveal }, new ReassemblyLimits(), sink);
        CaptureFileSource.Read(path, pipeline.OnFrame, FrameDecoder.IsSupported);
        pipeline.Finish();
        return sink.Events.Select(e => JsonNode.Parse(JsonEventFormatter.ToJson(e))!.AsObject()).ToList();
    }

    private static JsonObject Union(IEnumerable<JsonObject> objects)
    {
        var u = new JsonObject();
        foreach (var o in objects) Merge(u, o);
        return u;
    }

    private static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (k, v) in from)
        {
            if (v is JsonObject child)
            {
                if (into[k] is not JsonObject existing) { existing = new JsonObject(); into[k] = existing; }
                Merge(existing, child);
            }
            else if (!into.ContainsKey(k)) into[k] = v?.DeepClone();
        }
    }

    /// <summary>The fields of <paramref name="actual"/> named in <paramref name="template"/>, event-type aware.</summary>
    private static JsonObject Project(JsonObject actual, JsonObject template)
    {
        var r = new JsonObject();
        foreach (var (k, v) in template)
        {
            if (!actual.ContainsKey(k)) continue;
            if (v is JsonObject sub && actual[k] is JsonObject actualSub) r[k] = Project(actualSub, sub);
            else r[k] = actual[k]?.DeepClone();
        }
        return r;
    }

    private static string Canonical(JsonNode n) => n.ToJsonString();
}
