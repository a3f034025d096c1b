using System.Text;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Points a server refused as data, kept in rejected.lp beside the spool for a person to look at and,
/// once the cause is fixed, send by hand (each refusal is preceded by a comment line, which line
/// protocol ignores). Bounded: past the limit refused points are only counted.
/// </summary>
public sealed class RejectedPoints(string? directory, long maxBytes)
{
    private static readonly Encoding NoBom = new UTF8Encoding(false);
    private bool _fullLogged, _failedLogged;

    /// <summary>The file, or null without a usable spool directory.</summary>
    public string? FilePath { get; } = directory is null ? null : Path.Combine(directory, "rejected.lp");

    /// <summary>Appends <paramref name="lines"/> after a comment saying <paramref name="why"/>; false if not kept.</summary>
    public bool SetAside(IReadOnlyList<string> lines, string why)
    {
        if (FilePath is null) return false;
        try
        {
            var length = File.Exists(FilePath) ? new FileInfo(FilePath).Length : 0;
            if (length >= maxBytes)
            {
                if (!_fullLogged)
                {
                    _fullLogged = true;
                    Log.Warning("metrics: {Path} has reached {Max} bytes: further refused points are counted, not kept", FilePath, maxBytes);
                }
                return false;
            }
            var text = new StringBuilder();
            text.Append("# ").Append(DateTime.UtcNow.ToString("O")).Append(' ').Append(InfluxAnswer.OneLine(why)).Append('\n');
            foreach (var line in lines) text.Append(line).Append('\n');
            using var file = OwnerOnly.Open(FilePath, FileMode.Append, FileAccess.Write);
            file.Write(NoBom.GetBytes(text.ToString()));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_failedLogged)
            {
                _failedLogged = true;
                Log.Error("metrics: cannot write {Path} ({Reason}): refused points are counted, not kept", FilePath, InfluxAnswer.OneLine(e.Message));
            }
            return false;
        }
    }
}
