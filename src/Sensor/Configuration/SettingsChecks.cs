using Sensor.Commands;
using Sensor.Core.Guessing;
using Serilog.Events;

namespace Sensor.Configuration;

/// <summary>
/// Checks of loaded settings shared by `read` and `run`: a value the sensor cannot honour is a usage
/// error (one sentence, exit 2) before anything is read or captured.
/// </summary>
public static class SettingsChecks
{
    /// <summary>The largest server inventory accepted: each server is a metric series too.</summary>
    public const int MaxInventory = 1_000_000;

    /// <summary>The first problem, as one sentence, or null when the settings can be used.</summary>
    public static string? Problem(SensorSettings s)
    {
        if (s.Influx.Url is { Length: > 0 } url && !OptionChecks.IsHttpUrl(url))
            return "Influx:Url must be an http:// or https:// address (the value is not repeated: it may hold credentials)"; // from the file or SENSOR_Influx__Url: options are checked as parsed
        if (!Enum.TryParse<Sensor.Outputs.Metrics.InfluxApi>(s.Influx.Api, ignoreCase: true, out _) || int.TryParse(s.Influx.Api, out _))
            return $"Influx:Api must be auto, v1 or v2, not '{s.Influx.Api}'";
        if (s.Influx.MaxSpoolMiB < 1)
            return "Influx:MaxSpoolMiB must be at least 1";
        if (!Enum.TryParse<LogEventLevel>(s.LogLevel, ignoreCase: true, out _) || int.TryParse(s.LogLevel, out _))
            return $"unknown log level '{s.LogLevel}' (Verbose, Debug, Information, Warning, Error or Fatal)";
        var g = s.Guessing;
        if (g.WindowSeconds < 1) return "Guessing:WindowSeconds must be at least 1";
        if (g.Failures is < 1 or > PasswordGuessingDetector.MaxThreshold)
            return $"Guessing:Failures must be between 1 and {PasswordGuessingDetector.MaxThreshold}";
        if (g.SprayUsernames is < 1 or > PasswordGuessingDetector.MaxThreshold)
            return $"Guessing:SprayUsernames must be between 1 and {PasswordGuessingDetector.MaxThreshold}";
        if (g.MaxClients is < 1 or > PasswordGuessingDetector.MaxTableSize)
            return $"Guessing:MaxClients must be between 1 and {PasswordGuessingDetector.MaxTableSize}";
        if (g.MaxUsernames is < 1 or > PasswordGuessingDetector.MaxTableSize)
            return $"Guessing:MaxUsernames must be between 1 and {PasswordGuessingDetector.MaxTableSize}";
        var r = s.Reassembly;
        foreach (var (name, value) in new[] { ("MaxFlows", r.MaxFlows), ("MaxBufferedMiB", r.MaxBufferedMiB), ("IdleTimeoutSeconds", r.IdleTimeoutSeconds), ("HandshakeTimeoutSeconds", r.HandshakeTimeoutSeconds) })
            if (value < 1) return $"Reassembly:{name} must be at least 1";
        if (s.Capture.Workers is < 0 or > 64)
            return "Capture:Workers must be between 0 and 64 (0: the default: 1 up to 2 cores, beyond that every core but one, at most 8)";
        if (s.Capture.FanoutGroup is < 0 or > 65535)
            return "Capture:FanoutGroup must be between 0 and 65535 (packet(7): the group id is 16 bits)";
        if (s.Capture.FanoutGroup is not null && !OperatingSystem.IsLinux())
            return "Capture:FanoutGroup needs Linux (AF_PACKET fanout)";
        if (string.IsNullOrWhiteSpace(s.Name))
            return "Name (the sensor's name in events and metrics) must not be empty";
        if (s.Site.HomeNetworks.Count > 0 && Sensor.Core.Site.HomeNetworks.Parse(s.Site.HomeNetworks, out var badNet) is null)
            return $"Site:HomeNetworks: {badNet}";
        if (s.Inventory is { IntervalSeconds: < 1 } or { MaxServers: < 1 } or { MaxServers: > MaxInventory })
            return $"Inventory: IntervalSeconds must be at least 1 and MaxServers between 1 and {MaxInventory}";
        if (s.Events is { MaxFileSizeMiB: < 1 } or { RetainedFiles: < 0 })
            return "Events: MaxFileSizeMiB must be at least 1 and RetainedFiles at least 0";
        return null;
    }
}
