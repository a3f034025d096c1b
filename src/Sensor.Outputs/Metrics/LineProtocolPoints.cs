using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using Sensor.Core.Events;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Events as InfluxDB points (line protocol, built with InfluxDB.Client's PointData so escaping is
/// the client's). Client addresses and usernames never become tags: series cardinality would grow
/// with every client, and a time-series store is the wrong place for who-logged-in (the event log
/// has it). The one exception is `mail_bruteforce`, which is rare and whose point is the client.
/// No tag carries text from the wire: the mechanism is one of <see cref="MechanismTag.Values"/>,
/// addresses are formatted by the sensor, the rest are its own words. `tenant` is there only for
/// traffic in a tenant network (VXLAN, GENEVE, keyed GRE, or VLANs when they separate connections,
/// e.g. "vxlan:42"), where two servers may share an address; plain traffic's series are unchanged.
/// </summary>
public sealed class LineProtocolPoints(string sensorName)
{
    // Two events of one series at the same nanosecond would be one point in InfluxDB (same series and
    // time overwrite): such a point is moved on by a nanosecond. Deterministic for a given capture, so
    // re-reading a file rewrites the same points rather than adding new ones.
    private readonly Dictionary<string, long> _lastTimestamp = new();

    /// <summary>
    /// Stamp points with the time they are made (`read --metrics-time now`) instead of the packet's.
    /// A capture months old otherwise lands outside a dashboard's "last 24 hours" and beyond a short
    /// retention (VictoriaMetrics drops points older than its retention, one month by default, without a
    /// word). The price: re-reading the file adds its points again instead of rewriting the same ones.
    /// </summary>
    public bool StampAtIngestion { get; init; }

    public string? From(SensorEvent e) => e switch
    {
        AuthAttempt a => Unique(PointData.Measurement("mail_auth")
            .Tag("sensor", sensorName)
            .Tag("proto", EventNames.Of(a.Protocol))
            .Tag("server", a.Server.AddressText)
            .Tag("tenant", a.Tunnel.Tenant)
            .Tag("mechanism", MechanismTag.Of(a.Mechanism))
            .Tag("exposure", EventNames.Of(a.Exposure))
            .Tag("outcome", EventNames.Of(a.Outcome))
            // Four values, and only with home networks configured (a null tag is left out).
            .Tag("direction", a.Direction is { } d ? EventNames.Of(d) : null)
            .Field("count", 1L), a.TimestampNs),
        // One series per server, bounded by the inventory's cap (Inventory:MaxServers); the latest
        // report's counts are the server's totals so far, so Grafana takes last(), not sum().
        ServerReport r => Unique(PointData.Measurement("mail_server")
            .Tag("sensor", sensorName)
            .Tag("proto", EventNames.Of(r.Protocol))
            .Tag("server", r.Server.AddressText)
            .Tag("tenant", r.Tunnel.Tenant)
            .Tag("port", r.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Tag("inside", r.Inside is bool inside ? inside ? "true" : "false" : null)
            .Field("cleartext_logins_accepted", r.CleartextLoginsAccepted)
            .Field("cleartext_logins", r.CleartextLogins)
            .Field("logins", r.Logins)
            .Field("failures", r.LoginsFailed)
            .Field("starttls_offered", r.OffersStartTls == true ? 1L : 0L)
            .Field("login_disabled", r.LoginDisabled ? 1L : 0L)
            .Field("starttls_upgrades", r.StartTlsUpgrades), r.TimestampNs),
        StartTlsUpgrade s => Unique(PointData.Measurement("mail_starttls")
            .Tag("sensor", sensorName)
            .Tag("proto", EventNames.Of(s.Protocol))
            .Tag("server", s.Server.AddressText)
            .Tag("tenant", s.Tunnel.Tenant)
            .Tag("outcome", EventNames.Of(s.Outcome))
            .Field("count", 1L), s.TimestampNs),
        PasswordGuessing g => Unique(PointData.Measurement("mail_bruteforce")
            .Tag("sensor", sensorName)
            .Tag("proto", EventNames.Of(g.Protocol))
            .Tag("server", g.Server.AddressText)
            .Tag("tenant", g.Tunnel.Tenant)
            .Tag("client", g.Client.AddressText)
            .Tag("kind", g.Kind == GuessingKind.Spraying ? "spraying" : "guessing")
            .Field("failures", g.Failures)
            .Field("usernames", g.DistinctUsernames), g.TimestampNs),
        _ => null,
    };

    public string Health(long timestampNs, IReadOnlyDictionary<string, long> fields)
    {
        var p = PointData.Measurement("sensor_health").Tag("sensor", sensorName);
        foreach (var (k, v) in fields) p = p.Field(k, v);
        return p.Timestamp(timestampNs, WritePrecision.Ns).ToLineProtocol();
    }

    private string Unique(PointData p, long ts)
    {
        if (StampAtIngestion) ts = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        var seriesOnly = p.ToLineProtocol();
        if (_lastTimestamp.Count > 200_000) _lastTimestamp.Clear(); // bounded; collisions are rare
        if (_lastTimestamp.TryGetValue(seriesOnly, out var last) && ts <= last) ts = last + 1;
        _lastTimestamp[seriesOnly] = ts;
        return p.Timestamp(ts, WritePrecision.Ns).ToLineProtocol();
    }
}
