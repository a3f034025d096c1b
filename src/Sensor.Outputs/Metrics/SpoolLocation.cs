namespace Sensor.Outputs.Metrics;

/// <summary>
/// Where spools live: a base directory per user (or the service's), and under it one directory per
/// target, so a spool never mixes the points of two servers, and two users never share one.
/// </summary>
public static class SpoolLocation
{
    /// <summary>The base for the system service (`sensor run` under systemd, StateDirectory=mail-sensor).</summary>
    public const string ForService = "/var/lib/mail-sensor/spool";

    /// <summary>
    /// The base for a user's runs: $XDG_STATE_HOME/mail-sensor/spool, or ~/.local/state/mail-sensor/spool
    /// (XDG Base Directory Specification: state that should persist between restarts).
    /// </summary>
    public static string DefaultForUser() =>
        DefaultForUser(Environment.GetEnvironmentVariable("XDG_STATE_HOME"), Environment.GetEnvironmentVariable("HOME"));

    /// <summary>The same, from the given values of XDG_STATE_HOME and HOME.</summary>
    public static string DefaultForUser(string? xdgStateHome, string? home)
    {
        var state = xdgStateHome;
        // The specification says a relative value is invalid and should be ignored.
        if (string.IsNullOrEmpty(state) || !Path.IsPathRooted(state))
        {
            if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
                return Path.Combine(Path.GetTempPath(), $"mail-sensor-{Environment.UserName}", "spool");
            state = Path.Combine(home, ".local", "state");
        }
        return Path.Combine(state, "mail-sensor", "spool");
    }

    /// <summary>The spool directory of one target under <paramref name="baseDirectory"/>.</summary>
    public static string ForTarget(string baseDirectory, InfluxTarget target) => Path.Combine(baseDirectory, target.SpoolName);
}
