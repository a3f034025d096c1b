using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Reading an InfluxDB answer to a write: which statuses are a refusal of the data and which mean
/// "not now", how many points a partial write dropped, and the server's words on one line.
/// </summary>
public static partial class InfluxAnswer
{
    private const int MaxMessageChars = 300;

    /// <summary>The outcome of a write of <paramref name="points"/> points answered with <paramref name="status"/>.</summary>
    public static WriteOutcome Classify(int status, string message, int points, string endpoint)
    {
        message = OneLine(message);
        if (status is >= 200 and < 300) return WriteOutcome.Accepted;
        if (status == 413) return new WriteOutcome(WriteOutcomeKind.TooLarge, status, 0, message, endpoint);
        // Only these say the data itself is wrong (line protocol, field type, retention): sending it
        // again cannot help. Everything else (401/403/404: not ready for us; 408/429/5xx: busy or
        // broken) is the server's state, and the points wait for it to change.
        if (status is 400 or 422) return new WriteOutcome(WriteOutcomeKind.Refused, status, RefusedCount(message, points), message, endpoint);
        return new WriteOutcome(WriteOutcomeKind.NotDelivered, status, 0, message, endpoint);
    }

    /// <summary>
    /// How many of <paramref name="points"/> a 400/422 dropped. InfluxDB says "partial write: …
    /// dropped=N" when it kept the rest (1.x with 400, 2.x with 422); points it could not parse it
    /// names one by one ("unable to parse '…'") and may count as dropped=0. Anything else: all of them.
    /// </summary>
    public static int RefusedCount(string message, int points)
    {
        if (message.Contains("partial write", StringComparison.OrdinalIgnoreCase))
        {
            int dropped = 0;
            var m = DroppedPattern().Match(message);
            if (m.Success) int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out dropped);
            int unparsed = UnparsedPattern().Count(message);
            int n = Math.Max(dropped, unparsed);
            if (n > 0) return Math.Min(n, points);
        }
        return points;
    }

    /// <summary>True when the server refused points for being older than the retention of the database or bucket.</summary>
    public static bool IsRetention(string message) =>
        message.Contains("beyond retention", StringComparison.OrdinalIgnoreCase) ||
        message.Contains("outside the retention", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The error text of an InfluxDB answer body: {"error": …} (1.x), {"message": …} (2.x), else the
    /// body itself.
    /// </summary>
    public static string ErrorText(string body)
    {
        if (body.TrimStart().StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                foreach (var key in new[] { "error", "message" })
                    if (doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
                        return v.GetString() ?? "";
            }
            catch (JsonException) { }
        }
        return body;
    }

    /// <summary>
    /// Text from a server or an exception made fit for one log line: control characters (InfluxDB
    /// joins parse errors with newlines) become spaces, runs of spaces one, and it is cut short.
    /// </summary>
    public static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(Math.Min(text.Length, MaxMessageChars + 1));
        bool space = false;
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || c is '\u2028' or '\u2029')
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
            if (sb.Length >= MaxMessageChars)
            {
                sb.Append('…');
                break;
            }
        }
        return sb.ToString();
    }

    /// <summary>"401 Unauthorized", "503 Service Unavailable": the status with its words.</summary>
    public static string StatusText(int status)
    {
        var name = Enum.IsDefined(typeof(HttpStatusCode), status) ? ((HttpStatusCode)status).ToString() : "";
        return name.Length == 0 ? status.ToString(CultureInfo.InvariantCulture) : $"{status} {SpacedWords().Replace(name, " $1")}";
    }

    [GeneratedRegex(@"dropped=(\d+)")]
    private static partial Regex DroppedPattern();

    [GeneratedRegex(@"unable to parse '")]
    private static partial Regex UnparsedPattern();

    [GeneratedRegex(@"(?<=[a-z])([A-Z])")]
    private static partial Regex SpacedWords();
}
