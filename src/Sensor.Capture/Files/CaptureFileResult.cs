namespace Sensor.Capture.Files;

/// <summary>How reading one capture file went.</summary>
public sealed record CaptureFileResult(string Path, bool Opened, long Packets, string? Error, int LinkType)
{
    /// <summary>The file could be opened and at least its readable part was analysed.</summary>
    public bool Read => Opened;
}
