using Microsoft.Extensions.Configuration;
using Sensor.Core.Platform;

namespace Sensor.Configuration;

/// <summary>Builds <see cref="SensorSettings"/> from defaults, a config file, SENSOR_* variables and options.</summary>
public static class SettingsLoader
{
    public const string DefaultConfigPath = "/etc/mail-sensor/sensor.json";

    /// <summary>The largest settings file read: a real one is a few KiB.</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>
    /// Why the settings could not be loaded, in one line: Microsoft.Extensions.Configuration says only
    /// "Failed to load configuration from file 'X'" and keeps the reason (the JSON error, with its line
    /// and position) in the inner exception.
    /// </summary>
    public static string Describe(Exception e)
    {
        var text = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (!text.Contains(inner.Message, StringComparison.Ordinal)) text = $"{text.TrimEnd('.')}: {inner.Message}";
        return text;
    }

    /// <param name="configPath">An explicit --config (must exist), or null for the default path if present.</param>
    /// <param name="overrides">Command-line values as configuration keys ("Capture:Interface").</param>
    /// <param name="useDefaultFile">
    /// Read <see cref="DefaultConfigPath"/> when no file is given: the service does; `read` does not, so
    /// that analysing a capture on a sensor host never pushes metrics to the service's InfluxDB or
    /// takes its event log path by surprise.
    /// </param>
    public static SensorSettings Load(string? configPath, IDictionary<string, string?> overrides, bool useDefaultFile = true)
    {
        var builder = new ConfigurationBuilder();
        if (configPath is not null)
        {
            if (!File.Exists(configPath)) throw new FileNotFoundException($"--config file '{configPath}' does not exist");
            // A device or a pipe given by mistake would be read without end (/dev/zero grew to gigabytes).
            var kind = FileKinds.Of(configPath);
            if (kind != FileKind.Regular) throw new InvalidDataException($"--config file '{configPath}' is {FileKinds.Describe(kind)}, not a regular file");
            if (new FileInfo(configPath).Length > MaxConfigBytes)
                throw new InvalidDataException($"--config file '{configPath}' is over {MaxConfigBytes / (1 << 20)} MiB: not a settings file");
            builder.AddJsonFile(Path.GetFullPath(configPath), optional: false);
        }
        else if (useDefaultFile && File.Exists(DefaultConfigPath))
        {
            builder.AddJsonFile(DefaultConfigPath, optional: true);
        }
        builder.AddEnvironmentVariables("SENSOR_");
        builder.AddInMemoryCollection(overrides);
        var settings = new SensorSettings();
        var config = builder.Build();
        config.Bind(settings);
        // Lists bind by index and would merge with defaults: a configured list replaces the default.
        ReplaceList(config, "Capture:Ports", settings.Capture.Ports);
        ReplaceList(config, "Analysis:ImapPorts", settings.Analysis.ImapPorts);
        ReplaceList(config, "Analysis:Pop3Ports", settings.Analysis.Pop3Ports);
        ReplaceList(config, "Analysis:SmtpPorts", settings.Analysis.SmtpPorts);
        ReplaceList(config, "Decoding:VxlanPorts", settings.Decoding.VxlanPorts);
        ReplaceList(config, "Decoding:GenevePorts", settings.Decoding.GenevePorts);
        ReplaceList(config, "Site:HomeNetworks", settings.Site.HomeNetworks);
        return settings;
    }

    private static void ReplaceList(IConfiguration config, string key, List<string> list)
    {
        var values = ListValues(config, key);
        if (values.Count == 0) return;
        list.Clear();
        list.AddRange(values);
    }

    /// <summary>A list's items: a JSON array, or one comma-separated value (an option, an environment variable).</summary>
    private static List<string> ListValues(IConfiguration config, string key)
    {
        var section = config.GetSection(key);
        var values = section.GetChildren().Select(c => c.Value).Where(v => v is not null).ToList();
        if (values.Count == 0 && section.Value is { Length: > 0 } csv)
            values = csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()!;
        return values!;
    }

    private static void ReplaceList(IConfiguration config, string key, List<ushort> list)
    {
        var values = ListValues(config, key);
        if (values.Count == 0) return;
        list.Clear();
        foreach (var v in values)
        {
            if (!ushort.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
                throw new FormatException($"{key}: '{v}' is not a port number (0-65535)");
            list.Add(port);
        }
    }
}
