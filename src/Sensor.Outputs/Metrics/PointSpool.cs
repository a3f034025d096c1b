using System.Text;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Points that could not be written yet, on disk, in order: segment files of line protocol named by
/// a growing sequence number. Bounded: past the limit the oldest segment is dropped and its points
/// counted. Survives restarts: the next run replays what the previous one spooled. A segment is
/// deleted only after it was written, so a crash in between replays it once more, which explicit
/// point timestamps make harmless (same series and time: the same point).
/// </summary>
public sealed class PointSpool
{
    private const long SegmentBytes = 1024 * 1024;
    private static readonly Encoding NoBom = new UTF8Encoding(false);
    private readonly string _dir;
    private readonly long _maxBytes;
    private readonly MetricCounters _counters;
    private readonly object _lock = new();

    public PointSpool(string directory, long maxBytes, MetricCounters counters)
    {
        _dir = directory;
        _maxBytes = maxBytes;
        _counters = counters;
        Directory.CreateDirectory(_dir);
    }

    public bool IsEmpty
    {
        get { lock (_lock) return Segments().Length == 0; }
    }

    public void Append(IReadOnlyCollection<string> lines)
    {
        if (lines.Count == 0) return;
        lock (_lock)
        {
            var segments = Segments();
            var current = segments.Length > 0 ? segments[^1] : null;
            if (current is null || new FileInfo(current).Length >= SegmentBytes)
                current = Path.Combine(_dir, $"spool-{NextSequence(segments):D12}.lp");
            File.AppendAllText(current, string.Join('\n', lines) + "\n", NoBom);
            _counters.PointsSpooled += lines.Count;
            EnforceLimit();
        }
    }

    /// <summary>The oldest segment's points, or null when the spool is empty.</summary>
    public (string Segment, string[] Lines)? Oldest()
    {
        lock (_lock)
        {
            var segments = Segments();
            if (segments.Length == 0) return null;
            var lines = File.ReadAllLines(segments[0]).Where(l => l.Length > 0).ToArray();
            return (segments[0], lines);
        }
    }

    public void Remove(string segment)
    {
        lock (_lock) File.Delete(segment);
    }

    private void EnforceLimit()
    {
        var segments = Segments();
        long total = segments.Sum(s => new FileInfo(s).Length);
        for (int i = 0; total > _maxBytes && i < segments.Length - 1; i++)
        {
            var dropped = File.ReadAllLines(segments[i]).Count(l => l.Length > 0);
            total -= new FileInfo(segments[i]).Length;
            File.Delete(segments[i]);
            _counters.PointsDropped += dropped;
            Serilog.Log.Warning("metrics spool full ({Max} bytes): dropped the oldest {Count} points", _maxBytes, dropped);
        }
    }

    private string[] Segments() =>
        Directory.GetFiles(_dir, "spool-*.lp").Order(StringComparer.Ordinal).ToArray();

    private static long NextSequence(string[] segments) =>
        segments.Length == 0 ? 1 : long.Parse(Path.GetFileNameWithoutExtension(segments[^1])["spool-".Length..]) + 1;
}
