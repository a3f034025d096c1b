using System.Text;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Points not written yet, on disk, in order: segment files of line protocol (one point a line, no
/// byte-order mark: any InfluxDB /write takes them as they are) named by a growing sequence number,
/// in one directory per target (<see cref="SpoolLocation"/>). Appends go to the newest segment; a
/// segment handed out for replay (<see cref="Oldest"/>) is sealed first, so nothing is ever appended
/// to a segment that is about to be deleted. Bounded: past the limit the oldest segments are dropped
/// and their points counted.
/// <para>
/// Survives restarts: the next run replays what this one left. A segment is deleted right after the
/// server accepted it; a crash between the two replays it once more, which explicit timestamps make
/// harmless (same series and time: the same point, overwritten). A crash in the middle of an append
/// leaves a last line without its newline: it is dropped (counted) at the next start, never sent.
/// </para>
/// <para>
/// Never throws for the disk: a directory that cannot be created, locked or written makes the spool
/// unusable (one log line), and the points it would have held are counted as dropped.
/// </para>
/// </summary>
public sealed class PointSpool : IDisposable
{
    private const long MaxSegmentBytes = 1024 * 1024;
    private static readonly Encoding NoBom = new UTF8Encoding(false);

    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly MetricCounters _counters;
    private readonly object _lock = new();
    private readonly SortedDictionary<long, Segment> _segments = new();
    private readonly FileStream? _lockFile;
    private long _next = 1;     // the sequence number of the next new segment
    private long _open;         // the segment appends go to; 0: none yet, the next append starts one
    private long _lent;         // the segment handed out for replay: the limit does not drop it
    private bool _closed;
    private bool _fullLogged, _writeFailing, _closedLogged;

    private sealed class Segment
    {
        public long Bytes;
        public int Lines;
    }

    /// <param name="directory">This target's own directory (created 0700 if missing).</param>
    /// <param name="about">What target.txt in the directory says, for people looking at it.</param>
    public PointSpool(string directory, long maxBytes, MetricCounters counters, string? about = null)
    {
        _maxBytes = maxBytes;
        _segmentBytes = Math.Clamp(maxBytes / 4, 4096, MaxSegmentBytes);
        _counters = counters;
        try
        {
            OwnerOnly.CreateDirectory(directory);
            // One run per spool: two would replay (and delete) the same segments. The kernel releases
            // the lock (flock, taken by FileShare.None) when a process dies, even by SIGKILL.
            try
            {
                _lockFile = OwnerOnly.Open(Path.Combine(directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(Path.Combine(directory, "lock")))
            {
                throw new IOException("it is in use by another sensor run");
            }
            if (about is not null) OwnerOnly.WriteAllBytes(Path.Combine(directory, "target.txt"), NoBom.GetBytes(about));
            Scan(directory);
            DirectoryPath = directory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            _lockFile?.Dispose();
            _lockFile = null;
            _segments.Clear();
            Log.Error("metrics spool {Directory} cannot be used ({Reason}): points that cannot be sent at once are dropped (counted)",
                directory, InfluxAnswer.OneLine(e.Message));
        }
    }

    /// <summary>The directory, or null when the spool is unusable.</summary>
    public string? DirectoryPath { get; }

    public bool Usable => DirectoryPath is not null;

    public bool IsEmpty
    {
        get { lock (_lock) return _segments.Count == 0; }
    }

    /// <summary>Adds points at the tail. Points that cannot be written are counted as dropped.</summary>
    public void Append(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return;
        lock (_lock)
        {
            if (DirectoryPath is null || _closed)
            {
                Interlocked.Add(ref _counters.PointsDropped, lines.Count);
                if (_closed && !_closedLogged)
                {
                    _closedLogged = true;
                    Log.Warning("metrics: {Count} points came after the metrics writer had stopped: dropped (counted)", lines.Count);
                }
                return;
            }
            if (_open == 0 || _segments[_open].Bytes >= _segmentBytes)
            {
                _open = _next++;
                _segments[_open] = new Segment();
            }
            var segment = _segments[_open];
            var text = new StringBuilder();
            foreach (var line in lines) text.Append(line).Append('\n');
            var bytes = NoBom.GetBytes(text.ToString());
            try
            {
                using var file = OwnerOnly.Open(PathOf(_open), FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0);
                file.Seek(segment.Bytes, SeekOrigin.Begin);
                try { file.Write(bytes); }
                catch (IOException)
                {
                    // Take back a point written in part, so the segment holds whole lines only.
                    try { file.SetLength(segment.Bytes); } catch (IOException) { }
                    throw;
                }
                segment.Bytes += bytes.Length;
                segment.Lines += lines.Count;
                Interlocked.Add(ref _counters.PointsSpooled, lines.Count);
                Interlocked.Add(ref _counters.PointsPending, lines.Count);
                if (_writeFailing)
                {
                    _writeFailing = false;
                    Log.Information("metrics spool {Directory} is writable again", DirectoryPath);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (segment.Lines == 0)
                {
                    _segments.Remove(_open);
                    try { File.Delete(PathOf(_open)); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
                }
                _open = 0; // never append after what may be a point cut short
                Interlocked.Add(ref _counters.PointsDropped, lines.Count);
                if (!_writeFailing)
                {
                    _writeFailing = true;
                    Log.Error("metrics spool {Directory} cannot be written ({Reason}): {Count} points dropped, and the next ones until it can (counted)",
                        DirectoryPath, InfluxAnswer.OneLine(e.Message), lines.Count);
                }
                return;
            }
            EnforceLimit();
        }
    }

    /// <summary>
    /// The oldest segment's points, or null when the spool is empty. The segment is sealed (later
    /// appends start a newer one) and kept out of the limit's reach until it is removed or replaced.
    /// </summary>
    public SpoolSegment? Oldest()
    {
        lock (_lock)
        {
            while (_segments.Count > 0)
            {
                var (sequence, segment) = _segments.First();
                if (sequence == _open) _open = 0;
                _lent = sequence;
                try
                {
                    var lines = CompleteLines(File.ReadAllBytes(PathOf(sequence)));
                    if (lines.Length != segment.Lines)
                    {
                        // Changed behind our back: what is there now is what will be sent.
                        Interlocked.Add(ref _counters.PointsPending, lines.Length - segment.Lines);
                        if (lines.Length < segment.Lines) Interlocked.Add(ref _counters.PointsDropped, segment.Lines - lines.Length);
                        else Interlocked.Add(ref _counters.PointsRecovered, lines.Length - segment.Lines);
                        segment.Lines = lines.Length;
                    }
                    return new SpoolSegment(sequence, lines);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _segments.Remove(sequence);
                    _lent = 0;
                    Interlocked.Add(ref _counters.PointsPending, -segment.Lines);
                    Interlocked.Add(ref _counters.PointsDropped, segment.Lines);
                    Log.Error("metrics spool {Directory}: cannot read {Segment} ({Reason}): its {Count} points are dropped (counted)",
                        DirectoryPath, Path.GetFileName(PathOf(sequence)), InfluxAnswer.OneLine(e.Message), segment.Lines);
                }
            }
            return null;
        }
    }

    /// <summary>Deletes a segment whose points the server took (or refused for good).</summary>
    public void Remove(SpoolSegment done)
    {
        lock (_lock)
        {
            if (!_segments.Remove(done.Sequence, out var segment)) return;
            if (_lent == done.Sequence) _lent = 0;
            Interlocked.Add(ref _counters.PointsPending, -segment.Lines);
            if (_segments.Count == 0) _fullLogged = false;
            try { File.Delete(PathOf(done.Sequence)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Error("metrics spool {Directory}: cannot delete {Segment} ({Reason}): the next start will send its points again",
                    DirectoryPath, Path.GetFileName(PathOf(done.Sequence)), InfluxAnswer.OneLine(e.Message));
            }
        }
    }

    /// <summary>Keeps only <paramref name="rest"/> of a segment, the part a partly successful replay did not deliver.</summary>
    public void Replace(SpoolSegment segment, IReadOnlyList<string> rest)
    {
        if (rest.Count == 0)
        {
            Remove(segment);
            return;
        }
        lock (_lock)
        {
            if (!_segments.TryGetValue(segment.Sequence, out var held)) return;
            var path = PathOf(segment.Sequence);
            var text = new StringBuilder();
            foreach (var line in rest) text.Append(line).Append('\n');
            var bytes = NoBom.GetBytes(text.ToString());
            try
            {
                // Written beside it, then renamed over it: a crash leaves either the old or the new one.
                OwnerOnly.WriteAllBytes(path + ".tmp", bytes);
                File.Move(path + ".tmp", path, overwrite: true);
                Interlocked.Add(ref _counters.PointsPending, rest.Count - held.Lines);
                held.Lines = rest.Count;
                held.Bytes = bytes.Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Error("metrics spool {Directory}: cannot rewrite {Segment} ({Reason}): points already delivered from it will be sent again",
                    DirectoryPath, Path.GetFileName(path), InfluxAnswer.OneLine(e.Message));
            }
        }
    }

    /// <summary>Stops accepting points and releases the directory for the next run.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _lockFile?.Dispose();
        }
    }

    private void Scan(string directory)
    {
        int torn = 0;
        long recovered = 0;
        foreach (var path in Directory.GetFiles(directory, "spool-*"))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(".lp.tmp", StringComparison.Ordinal))
            {
                File.Delete(path); // a replacement cut short: the segment it was for is still whole
                continue;
            }
            if (!name.EndsWith(".lp", StringComparison.Ordinal) || !long.TryParse(name["spool-".Length..^".lp".Length], out var sequence))
                continue;
            var bytes = File.ReadAllBytes(path);
            int lines = CountCompleteLines(bytes);
            if (bytes.Length > 0 && bytes[^1] != (byte)'\n') torn++;
            _next = Math.Max(_next, sequence + 1);
            if (lines == 0) File.Delete(path);
            else _segments[sequence] = new Segment { Bytes = bytes.Length, Lines = lines };
            recovered += lines;
        }
        // A point cut short is counted as found and dropped, so the counts still add up.
        Interlocked.Add(ref _counters.PointsRecovered, recovered + torn);
        Interlocked.Add(ref _counters.PointsPending, recovered);
        Interlocked.Add(ref _counters.PointsDropped, torn);
        if (torn > 0)
            Log.Warning("metrics spool {Directory}: {Count} point(s) cut short when an earlier run stopped while writing them: dropped (counted), the rest is sent",
                directory, torn);
        if (recovered > 0)
            Log.Information("metrics spool {Directory}: {Count} points left by an earlier run are sent first", directory, recovered);
    }

    /// <summary>The newline-terminated, non-empty lines; a last line without its newline was cut short.</summary>
    private static string[] CompleteLines(byte[] bytes)
    {
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        return NoBom.GetString(bytes, 0, end).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>What <see cref="CompleteLines"/> would return, counted without decoding.</summary>
    private static int CountCompleteLines(ReadOnlySpan<byte> bytes)
    {
        int lines = 0, start = 0;
        while (true)
        {
            int length = bytes[start..].IndexOf((byte)'\n');
            if (length < 0) return lines;
            if (length > 0) lines++;
            start += length + 1;
        }
    }

    private void EnforceLimit()
    {
        long total = _segments.Values.Sum(s => s.Bytes);
        foreach (var sequence in _segments.Keys.ToList())
        {
            if (total <= _maxBytes) break;
            if (sequence == _open || sequence == _lent) continue;
            var segment = _segments[sequence];
            _segments.Remove(sequence);
            total -= segment.Bytes;
            Interlocked.Add(ref _counters.PointsPending, -segment.Lines);
            Interlocked.Add(ref _counters.PointsDropped, segment.Lines);
            try { File.Delete(PathOf(sequence)); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            if (!_fullLogged)
            {
                _fullLogged = true;
                Log.Warning("metrics spool {Directory} is full ({Max} bytes): the oldest points are dropped (counted) until the server takes points again",
                    DirectoryPath, _maxBytes);
            }
        }
    }

    private string PathOf(long sequence) => Path.Combine(DirectoryPath ?? "", $"spool-{sequence:D12}.lp");
}

/// <summary>One segment of the spool handed out for replay.</summary>
public sealed record SpoolSegment(long Sequence, IReadOnlyList<string> Lines);
