namespace Sensor.Configuration;

/// <summary>
/// Settings of `sensor run` and `sensor read`, bound from (later wins): built-in defaults, the JSON config file,
/// environment variables (SENSOR_Capture__Interface=eth1, ...) and command-line options.
/// </summary>
public sealed class SensorSettings
{
    /// <summary>This sensor's name: the `host` field of every event and the `sensor` tag of every point.</summary>
    public string Name { get; set; } = Environment.MachineName;
    public CaptureSection Capture { get; set; } = new();
    public EventsSection Events { get; set; } = new();
    public AnalysisSection Analysis { get; set; } = new();
    public HealthSection Health { get; set; } = new();
    public InfluxSection Influx { get; set; } = new();
    public GuessingSection Guessing { get; set; } = new();
    public ReassemblySection Reassembly { get; set; } = new();
    public DecodingSection Decoding { get; set; } = new();
    public SiteSection Site { get; set; } = new();
    public InventorySection Inventory { get; set; } = new();
    /// <summary>Application log level: Verbose, Debug, Information, Warning, Error.</summary>
    public string LogLevel { get; set; } = "Information";
}

public sealed class CaptureSection
{
    public string? Interface { get; set; }
    /// <summary>BPF filter; overrides the one built from Ports.</summary>
    public string? Filter { get; set; }
    /// <summary>Capture only these TCP ports (a kernel filter for busy links). Empty: every TCP flow.</summary>
    public List<ushort> Ports { get; set; } = [];
    public int SnapLength { get; set; } = 65_535;
    public int BufferSizeMiB { get; set; } = 64;
    public bool Promiscuous { get; set; } = true;
    /// <summary>Analysis threads, connections shared by flow hash; 0: the default (WorkerDefaults.ForLive: 1 up to 2 cores, every core but one beyond, at most 8). 1: the capture thread analyses.</summary>
    public int Workers { get; set; }
    /// <summary>
    /// AF_PACKET fanout group (0-65535, Linux): sensor processes on one interface with the same group
    /// share its connections, each seeing whole ones. Null: this process captures everything alone.
    /// </summary>
    public int? FanoutGroup { get; set; }
}

public sealed class EventsSection
{
    /// <summary>JSON-lines event log; "-" for stdout. Rolled at MaxFileSizeMiB (NAME_001.json, ...).</summary>
    public string Path { get; set; } = "/var/log/mail-sensor/events.json";
    /// <summary>Also write events to stdout (for journald).</summary>
    public bool Stdout { get; set; }
    public int MaxFileSizeMiB { get; set; } = 256;
    public int RetainedFiles { get; set; } = 14;
}

public sealed class AnalysisSection
{
    public bool RevealSecrets { get; set; }
    public List<ushort> ImapPorts { get; set; } = [143];
    public List<ushort> Pop3Ports { get; set; } = [110];
    public List<ushort> SmtpPorts { get; set; } = [25, 587];

    /// <summary>The analysers' options (ports, secrets) with how frames are decoded.</summary>
    public Sensor.Core.Mail.AnalysisOptions ToOptions(bool revealSecrets, DecodingSection decoding) => new()
    {
        RevealSecrets = revealSecrets,
        ImapPorts = ImapPorts,
        Pop3Ports = Pop3Ports,
        SmtpPorts = SmtpPorts,
        VxlanPorts = decoding.VxlanPorts,
        GenevePorts = decoding.GenevePorts,
        VlanSeparatesConnections = decoding.VlanSeparatesConnections,
    };
}

/// <summary>How tunnels and tags are decoded (see docs/tunnels.md).</summary>
public sealed class DecodingSection
{
    /// <summary>UDP destination ports carrying VXLAN (RFC 7348: 4789; Linux's old default 8472).</summary>
    public List<ushort> VxlanPorts { get; set; } = [4789, 8472];
    /// <summary>UDP destination ports carrying GENEVE (RFC 8926: 6081).</summary>
    public List<ushort> GenevePorts { get; set; } = [6081];
    /// <summary>VLAN ids tell connections apart (off where one connection's directions arrive on different VLANs).</summary>
    public bool VlanSeparatesConnections { get; set; } = true;
}

public sealed class InfluxSection
{
    /// <summary>InfluxDB URL (v2 write API). Empty: no metrics.</summary>
    public string? Url { get; set; }
    public string? Token { get; set; }
    public string Org { get; set; } = "mail-sensor";
    public string Bucket { get; set; } = "mail_sensor";
    /// <summary>
    /// Base directory of the metrics spool (one sub-directory per InfluxDB address and bucket). Unset:
    /// the user's state directory ($XDG_STATE_HOME/mail-sensor/spool); the service's config names
    /// /var/lib/mail-sensor/spool.
    /// </summary>
    public string? SpoolDirectory { get; set; }
    public int MaxSpoolMiB { get; set; } = 256;
    /// <summary>Auto (ask the server's /ping), V1 (InfluxDB 1.x /write) or V2 (/api/v2/write).</summary>
    public string Api { get; set; } = "Auto";

    /// <summary>What the metrics writer needs from this section; the sensor's name tags every point.</summary>
    public Sensor.Outputs.Metrics.InfluxSettings ToWriterSettings(string sensorName)
    {
        var defaults = new Sensor.Outputs.Metrics.InfluxSettings();
        return new Sensor.Outputs.Metrics.InfluxSettings
        {
            Url = Url,
            Token = Token,
            Org = Org,
            Bucket = Bucket,
            SensorName = sensorName,
            SpoolDirectory = string.IsNullOrWhiteSpace(SpoolDirectory) ? defaults.SpoolDirectory : SpoolDirectory,
            MaxSpoolBytes = Math.Max(1, MaxSpoolMiB) * 1024L * 1024,
            Api = Enum.Parse<Sensor.Outputs.Metrics.InfluxApi>(Api, ignoreCase: true),
        };
    }
}

/// <summary>The bounds of connection tracking (see ReassemblyLimits); memory is roughly 40 MB + MaxFlows x 0.4-0.8 KB + MaxBufferedMiB.</summary>
public sealed class ReassemblySection
{
    private static readonly Sensor.Core.Reassembly.ReassemblyLimits Defaults = new();

    public int MaxFlows { get; set; } = Defaults.MaxFlows;
    public int MaxBufferedMiB { get; set; } = (int)(Defaults.MaxBufferedBytesTotal / (1024 * 1024));
    public int IdleTimeoutSeconds { get; set; } = (int)Defaults.IdleTimeout.TotalSeconds;
    public int HandshakeTimeoutSeconds { get; set; } = (int)Defaults.HandshakeTimeout.TotalSeconds;

    public Sensor.Core.Reassembly.ReassemblyLimits ToLimits() => Defaults with
    {
        MaxFlows = Math.Max(1, MaxFlows),
        MaxBufferedBytesTotal = Math.Max(1, MaxBufferedMiB) * 1024L * 1024,
        IdleTimeout = TimeSpan.FromSeconds(Math.Max(1, IdleTimeoutSeconds)),
        HandshakeTimeout = TimeSpan.FromSeconds(Math.Max(1, HandshakeTimeoutSeconds)),
    };
}

public sealed class GuessingSection
{
    public int WindowSeconds { get; set; } = 300;
    public int Failures { get; set; } = 10;
    public int SprayUsernames { get; set; } = 5;
    public int MaxClients { get; set; } = 50_000;
    public int MaxUsernames { get; set; } = 50_000;

    public Sensor.Core.Guessing.GuessingThresholds ToThresholds() => new()
    {
        Window = TimeSpan.FromSeconds(WindowSeconds),
        Failures = Failures,
        SprayUsernames = SprayUsernames,
        MaxClients = MaxClients,
        MaxUsernames = MaxUsernames,
    };
}

public sealed class HealthSection
{
    /// <summary>How often a sensor_health point is written when metrics are on.</summary>
    public int MetricsIntervalSeconds { get; set; } = 10;

    /// <summary>How often capture health is logged.</summary>
    public int IntervalSeconds { get; set; } = 60;
}

/// <summary>The site the sensor watches over (Suricata's HOME_NET, Zeek's Site::local_nets).</summary>
public sealed class SiteSection
{
    /// <summary>The site's own address blocks, IPv4 and IPv6 CIDR ("10.0.0.0/8", "2001:db8::/32"). Empty: events carry no direction.</summary>
    public List<string> HomeNetworks { get; set; } = [];

    /// <summary>The matcher, or null when no home network is configured (SettingsChecks has refused bad entries).</summary>
    public Sensor.Core.Site.HomeNetworks? ToHomeNetworks() =>
        HomeNetworks.Count == 0 ? null : Sensor.Core.Site.HomeNetworks.Parse(HomeNetworks, out _);
}

/// <summary>The server inventory: `server` events and mail_server points.</summary>
public sealed class InventorySection
{
    /// <summary>Packet time between inventory reports while capturing live (a file is reported once, at its end).</summary>
    public int IntervalSeconds { get; set; } = 300;

    /// <summary>Servers tracked; beyond it the least recently seen is reported and forgotten. Also the bound on mail_server series.</summary>
    public int MaxServers { get; set; } = Sensor.Core.Mail.ServerPostureTable.DefaultMaxServers;
}
