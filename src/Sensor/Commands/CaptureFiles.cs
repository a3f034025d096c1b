namespace Sensor.Commands;

/// <summary>Turns the PATH arguments into the capture files to read, in a stable order.</summary>
public static class CaptureFiles
{
    private static readonly string[] Extensions = [".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz", ".cap.gz"];

    public static IEnumerable<(string Path, string? Problem)> Expand(IEnumerable<string> paths)
    {
        foreach (var p in paths)
        {
            if (p == Sensor.Capture.Files.CaptureStreamSource.StandardInput || File.Exists(p))
            {
                yield return (p, null);
            }
            else if (Directory.Exists(p))
            {
                var files = Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (files.Count == 0) yield return (p, "folder holds no capture files (.pcap, .pcapng, .cap, .dmp, also gzip'ed)");
                foreach (var f in files) yield return (f, null);
            }
            else
            {
                yield return (p, "no such file or folder");
            }
        }
    }
}
