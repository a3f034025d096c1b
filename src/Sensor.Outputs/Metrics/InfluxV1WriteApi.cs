using System.Net.Http.Headers;
using System.Text;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// InfluxDB 1.x: POST /write?db=…&amp;precision=ns with the same line protocol. A missing database is
/// created (CREATE DATABASE through /query, as Telegraf does) and the write tried again. Credentials:
/// a token "user:password" (or the address's user-info) as HTTP basic authentication, which every
/// 1.x understands; any other token as "Authorization: Token …" (1.8 and later).
/// </summary>
public sealed class InfluxV1WriteApi : IInfluxWriteApi
{
    private readonly HttpClient _http;
    private readonly InfluxTarget _target;
    private readonly Uri _write;
    private readonly Uri _query;
    private readonly AuthenticationHeaderValue? _auth;
    private bool _created;

    public InfluxV1WriteApi(HttpClient http, InfluxTarget target, string? token)
    {
        _http = http;
        _target = target;
        var db = Uri.EscapeDataString(target.Bucket);
        _write = new Uri(target.BaseAddress, $"write?db={db}&precision=ns");
        _query = new Uri(target.BaseAddress, "query");
        var credentials = string.IsNullOrEmpty(token) ? target.UserInfo : token;
        if (!string.IsNullOrEmpty(credentials))
        {
            _auth = credentials.Contains(':')
                ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)))
                : new AuthenticationHeaderValue("Token", credentials);
        }
    }

    public string Name => "v1 /write";

    public async Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancel)
    {
        var outcome = await PostAsync(lines, cancel);
        if (outcome is { Kind: WriteOutcomeKind.NotDelivered, Status: 404 } && outcome.Message.Contains("database not found", StringComparison.Ordinal) && !_created)
        {
            if (await CreateDatabaseAsync(cancel) is { } failed) return failed;
            outcome = await PostAsync(lines, cancel);
        }
        return outcome;
    }

    private async Task<WriteOutcome> PostAsync(IReadOnlyList<string> lines, CancellationToken cancel)
    {
        var body = new StringBuilder();
        foreach (var line in lines) body.Append(line).Append('\n');
        using var request = new HttpRequestMessage(HttpMethod.Post, _write)
        {
            Content = new StringContent(body.ToString(), new UTF8Encoding(false), "text/plain"),
        };
        request.Headers.Authorization = _auth;
        try
        {
            using var response = await _http.SendAsync(request, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            var message = InfluxAnswer.ErrorText(text);
            if (message.Length == 0 && response.Headers.TryGetValues("X-Influxdb-Error", out var header)) message = string.Join(' ', header);
            return InfluxAnswer.Classify((int)response.StatusCode, message, lines.Count, "/write");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return WriteOutcome.NoAnswer(TransportFailure.Describe(e), "/write");
        }
    }

    /// <summary>Null when the database now exists; else why it could not be created.</summary>
    private async Task<WriteOutcome?> CreateDatabaseAsync(CancellationToken cancel)
    {
        // An identifier in double quotes, with \ and " escaped (InfluxQL).
        var name = _target.Bucket.Replace("\\", "\\\\").Replace("\"", "\\\"");
        using var request = new HttpRequestMessage(HttpMethod.Post, _query)
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("q", $"CREATE DATABASE \"{name}\"")]),
        };
        request.Headers.Authorization = _auth;
        try
        {
            using var response = await _http.SendAsync(request, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            // /query answers 200 with {"results":[{"error":…}]} for a statement that failed.
            bool failed = !response.IsSuccessStatusCode || text.Contains("\"error\"", StringComparison.Ordinal);
            if (!failed)
            {
                _created = true;
                Log.Information("InfluxDB at {Url} had no database {Database}: created it", _target.Url, _target.Bucket);
                return null;
            }
            int status = (int)response.StatusCode;
            var why = InfluxAnswer.OneLine(InfluxAnswer.ErrorText(text));
            if (why.Length == 0 && response.Headers.TryGetValues("X-Influxdb-Error", out var header)) why = InfluxAnswer.OneLine(string.Join(' ', header));
            return new WriteOutcome(WriteOutcomeKind.NotDelivered, status is >= 200 and < 300 ? 404 : status, 0, why, "/query",
                $"has no database \"{_target.Bucket}\" and CREATE DATABASE failed ({InfluxAnswer.StatusText(status)}: {why}): create it, or give the user the right to");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return WriteOutcome.NoAnswer(TransportFailure.Describe(e), "/query");
        }
    }

    public void Dispose() { }
}
