using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// InfluxDB 2 and later (and servers that speak its protocol, such as VictoriaMetrics): the v2 write
/// API through InfluxDB.Client, POST /api/v2/write?bucket=…&amp;org=…&amp;precision=ns.
/// </summary>
public sealed class InfluxV2WriteApi : IInfluxWriteApi
{
    private readonly InfluxDBClient _client;
    private readonly WriteApiAsync _api;
    private readonly InfluxTarget _target;

    public InfluxV2WriteApi(InfluxTarget target, string? token, TimeSpan timeout)
    {
        _target = target;
        _client = new InfluxDBClient(new InfluxDBClientOptions(target.Url)
        {
            // InfluxDB.Client wants a token; a server without authentication ignores it.
            Token = string.IsNullOrEmpty(token) ? "-" : token,
            Org = target.Org,
            Bucket = target.Bucket,
            // The writer's own deadline comes first; this one only backs it up.
            Timeout = timeout + TimeSpan.FromSeconds(5),
        });
        _api = _client.GetWriteApiAsync();
    }

    public string Name => "v2 /api/v2/write";

    public async Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancel)
    {
        try
        {
            await _api.WriteRecordsAsync(lines, WritePrecision.Ns, _target.Bucket, _target.Org, cancel);
            return WriteOutcome.Accepted;
        }
        catch (HttpException e) when (e.Status > 0)
        {
            return InfluxAnswer.Classify(e.Status, e.Message ?? "", lines.Count, "/api/v2/write");
        }
        catch (Exception e) when (e is InfluxException or HttpRequestException or IOException && !cancel.IsCancellationRequested)
        {
            return WriteOutcome.NoAnswer(TransportFailure.Describe(e), "/api/v2/write");
        }
    }

    public void Dispose() => _client.Dispose();
}
