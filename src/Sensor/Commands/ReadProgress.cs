using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Sensor.Commands;

/// <summary>
/// One progress line on the terminal during a long `sensor read` (bytes, share, rate, time left),
/// redrawn at most four times a second and erased at the end; nothing at all when stderr is not a
/// terminal (a log file or a pipe must not fill with carriage returns) or the input is small.
/// <para>
/// It stays out of the per-packet path: a timer reads how many bytes this process has read so far,
/// the kernel's <c>rchar</c> counter in <c>/proc/self/io</c> (proc(5): bytes passed to read(2) and
/// pread(2), whatever the file), and the command marks where each file starts and ends. The readers
/// are not touched and count nothing for it. A classic pcap analysed by N workers is read N times
/// (each worker reads the whole file), so the counter is divided by the readers of the file.
/// </para>
/// </summary>
internal sealed class ReadProgress : IDisposable
{
    /// <summary>Inputs at least this large (in total) get a progress line.</summary>
    public const long LargeInputBytes = 64L << 20;

    /// <summary>So do this many files, whatever their size: a folder of many captures takes its time too.</summary>
    public const int ManyFiles = 100;

    /// <summary>At most four redraws a second: enough to see it move, little for a slow terminal to draw.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    // Erase to the end of the line (ECMA-48 EL, CSI K), then back to column 0, so that a finding written
    // to the same terminal on stdout overwrites the line instead of being appended to it.
    private const string EraseToEnd = "\u001b[K";

    private readonly TextWriter _terminal;
    private readonly long _total;
    private readonly int _files;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private long _finishedBytes;      // the files already read, whole
    private long _fileSize;           // the file being read
    private long _fileStartCounter;   // rchar when it started
    private int _fileReaders = 1;
    private int _fileNumber;
    private bool _reading;            // between FileStarted and FileEnded: only then is drawing allowed
    private bool _drawn;              // a line is on the screen
    private bool _disposed;

    private ReadProgress(TextWriter terminal, long total, int files)
    {
        _terminal = terminal;
        _total = total;
        _files = files;
        // One shot, armed again after each redraw: a periodic timer that fired late (start-up, a busy
        // machine) would catch up with redraws closer together than the period.
        _timer = new Timer(_ => Tick(), null, Period, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// A progress line for reading <paramref name="paths"/> when stderr is a terminal (isatty(3) on
    /// descriptor 2) and the input is large; else null. Standard input has no size to measure against,
    /// so an input that includes it gets none.
    /// </summary>
    public static ReadProgress? Start(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0 || paths.Any(p => p == Sensor.Capture.Files.CaptureStreamSource.StandardInput)) return null;
        if (!StderrIsTerminal() || BytesReadByThisProcess() is null) return null;
        long total = 0;
        foreach (var p in paths) total += SizeOf(p);
        if (total < LargeInputBytes && paths.Count < ManyFiles) return null;
        return new ReadProgress(Console.Error, total, paths.Count);
    }

    /// <summary>A file starts; <paramref name="readers"/> is how many times it will be read whole (the workers).</summary>
    public void FileStarted(string path, int readers)
    {
        long size = SizeOf(path);
        lock (_gate)
        {
            _fileNumber++;
            _fileSize = size;
            _fileReaders = Math.Max(1, readers);
            _fileStartCounter = BytesReadByThisProcess() ?? 0;
            _reading = true;
        }
    }

    /// <summary>The file is done: the line is erased so that what the command logs about the file stands alone.</summary>
    public void FileEnded()
    {
        lock (_gate)
        {
            _finishedBytes += _fileSize;
            _fileSize = 0;
            _reading = false;
            Erase();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Erase();
        }
        _timer.Dispose();
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (_reading)
            {
                long inFile = ((BytesReadByThisProcess() ?? _fileStartCounter) - _fileStartCounter) / _fileReaders;
                // A pcapng read through a pipe (gzip'ed) is counted twice, compressed and plain: never past the file.
                long done = _finishedBytes + Math.Clamp(inFile, 0, _fileSize);
                _terminal.Write(Line(done, _total, _clock.Elapsed, _fileNumber, _files) + EraseToEnd + "\r");
                _terminal.Flush();
                _drawn = true;
            }
            _timer.Change(Period, Timeout.InfiniteTimeSpan); // the next redraw a whole period after this one
        }
    }

    private void Erase()
    {
        if (!_drawn) return;
        _terminal.Write("\r" + EraseToEnd);
        _terminal.Flush();
        _drawn = false;
    }

    /// <summary>"reading 1.2 GiB of 4.5 GiB (27 %), 310 MiB/s, 0:11 left, file 3 of 10": under 80 columns.</summary>
    public static string Line(long done, long total, TimeSpan elapsed, int file, int files)
    {
        var c = CultureInfo.InvariantCulture;
        int percent = total > 0 ? (int)Math.Min(100, done * 100 / total) : 0;
        double rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        string left = rate > 0 ? Duration(TimeSpan.FromSeconds((total - done) / rate)) : "?";
        string line = string.Create(c, $"reading {Size(done)} of {Size(total)} ({percent} %), {Size((long)rate)}/s, {left} left");
        return files > 1 ? line + string.Create(c, $", file {file} of {files}") : line;
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1024.0).ToString("0", CultureInfo.InvariantCulture) + " KiB",
    };

    private static string Duration(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");

    /// <summary>The size of the file a path names, through symbolic links (FileInfo.Length of a link is the link's own); 0 when unknown.</summary>
    private static long SizeOf(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
            return info.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }

    /// <summary>The <c>rchar</c> line of /proc/self/io, or null where there is none (not Linux, or hidden).</summary>
    private static long? BytesReadByThisProcess()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/io"))
                if (line.StartsWith("rchar:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    private static bool StderrIsTerminal()
    {
        try { return isatty(2) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    [DllImport("libc")]
    private static extern int isatty(int fd);
}
