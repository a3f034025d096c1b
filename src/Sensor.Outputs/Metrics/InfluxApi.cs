namespace Sensor.Outputs.Metrics;

/// <summary>
/// Which write API the sensor speaks. InfluxDB 1.x has only /write (v1); 2.x and later have
/// /api/v2/write (and a v1 compatibility /write). Auto asks the server: GET /ping answers with
/// X-Influxdb-Version.
/// </summary>
public enum InfluxApi
{
    Auto,
    V1,
    V2,
}
