using System.CommandLine;
using System.Globalization;

namespace Sensor.Commands;

/// <summary>
/// The options `read` and `run` share, the sensor's name and where its metrics go, declared once and
/// turned into the configuration keys both commands' settings loader reads.
/// </summary>
internal sealed class SharedOptions
{
    private readonly Option<string?> _influxUrl = new Option<string?>("--influx-url")
    {
        Description = "Write metrics to this InfluxDB (1.x or 2.x, told apart by its /ping) or VictoriaMetrics, e.g. http://localhost:8086. Env: SENSOR_Influx__Url.",
    }.HttpUrl();
    private readonly Option<string?> _influxToken = new("--influx-token") { Description = "InfluxDB token; for InfluxDB 1.x user:password. Env: SENSOR_Influx__Token (preferred: not visible in ps)." };
    private readonly Option<string?> _influxOrg = new("--influx-org") { Description = "InfluxDB organization (default mail-sensor)." };
    private readonly Option<string?> _influxBucket = new("--influx-bucket") { Description = "InfluxDB bucket, or 1.x database (default mail_sensor)." };
    private readonly Option<string?> _influxApi = new Option<string?>("--influx-api")
    {
        Description = "auto (default: ask the server's /ping), v1 (InfluxDB 1.x /write, database created when missing) or v2 (/api/v2/write).",
    }.OneOf("auto", "v1", "v2");
    private readonly Option<string?> _spoolDir = new Option<string?>("--spool-dir") { Description = "Where points wait while InfluxDB is unreachable (one folder per server inside)." }.NonEmptyPath();
    private readonly Option<string?> _homeNet = new Option<string?>("--home-net")
    {
        Description = "The site's own networks, comma-separated CIDR (IPv4 and IPv6), e.g. 10.0.0.0/8,2001:db8::/32: events get a direction (outbound, inbound, internal, external). Config: Site:HomeNetworks.",
    }.Cidrs();
    private readonly Option<string?> _sensorName = new("--sensor-name") { Description = "This sensor's name: the `host` field of events, the `sensor` tag of metrics (default: the host name). Env: SENSOR_Name." };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _influxUrl, _influxToken, _influxOrg, _influxBucket, _influxApi, _spoolDir, _sensorName, _homeNet })
            command.Options.Add(o);
    }

    /// <summary>The values given, as configuration keys ("Influx:Url", "Name", ...).</summary>
    public void ApplyTo(ParseResult parse, IDictionary<string, string?> overrides)
    {
        Set(overrides, "Influx:Url", parse.GetValue(_influxUrl));
        Set(overrides, "Influx:Token", parse.GetValue(_influxToken));
        Set(overrides, "Influx:Org", parse.GetValue(_influxOrg));
        Set(overrides, "Influx:Bucket", parse.GetValue(_influxBucket));
        Set(overrides, "Influx:Api", parse.GetValue(_influxApi));
        Set(overrides, "Influx:SpoolDirectory", parse.GetValue(_spoolDir));
        Set(overrides, "Name", parse.GetValue(_sensorName));
        Set(overrides, "Site:HomeNetworks", parse.GetValue(_homeNet));
    }

    /// <summary>A configuration key from an option's value, when the option was given.</summary>
    public static void Set(IDictionary<string, string?> overrides, string key, object? value)
    {
        if (value is not null) overrides[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
    }
}
