using System.Globalization;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Asks a server which InfluxDB it is: GET /ping answers with X-Influxdb-Version ("1.6.7~rc0",
/// "1.8.10"; "v2.7.1" or "2.0.0" from InfluxDB 2). A major version 1 means the v1 /write API; any other
/// version, or an answer without the header (VictoriaMetrics' /ping has none), the v2 API.
/// </summary>
public static class InfluxServerProbe
{
    /// <summary>What the server said it is.</summary>
    /// <param name="Version">The X-Influxdb-Version header; null when there was none.</param>
    public sealed record Identity(InfluxApi Api, string? Version);

    /// <summary>The identity, or the outcome saying why nothing answered.</summary>
    public static async Task<(Identity? Identity, WriteOutcome? Failure)> ProbeAsync(HttpClient http, InfluxTarget target, CancellationToken cancel)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(target.BaseAddress, "ping"), HttpCompletionOption.ResponseHeadersRead, cancel);
            string? version = response.Headers.TryGetValues("X-Influxdb-Version", out var values) ? values.FirstOrDefault() : null;
            return (new Identity(ApiOf(version), version), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (null, WriteOutcome.NoAnswer(TransportFailure.Describe(e), "/ping"));
        }
    }

    public static InfluxApi ApiOf(string? version)
    {
        if (string.IsNullOrWhiteSpace(version)) return InfluxApi.V2;
        var v = version.Trim().TrimStart('v', 'V');
        int digits = 0;
        while (digits < v.Length && char.IsAsciiDigit(v[digits])) digits++;
        return int.TryParse(v.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var major) && major == 1
            ? InfluxApi.V1
            : InfluxApi.V2;
    }
}
