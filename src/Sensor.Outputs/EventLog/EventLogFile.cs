using System.Globalization;
using System.Text.RegularExpressions;
using Sensor.Core.Platform;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// The event log file: JSON lines appended to one path, each line written with one system call as it
/// comes (a finding is on disk within milliseconds, and `tail -F` sees whole lines). Created readable
/// by owner and group only (0640): events name users, servers and, when asked, passwords.
///
/// Rolling: when a line would take the file past the size limit, the file is renamed
/// NAME-yyyyMMddTHHmmssZ-NNN.EXT and a new one started under the configured name, so the current log is
/// always where the configuration says; beyond the retained count the oldest rolled files are deleted.
///
/// A failed write (a full disk, an I/O error) is undone: the file is cut back to its last whole line,
/// so the events before the failure stay intact and readable, and the next line is tried afresh.
/// </summary>
public sealed class EventLogFile : EventOutput
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _retainedFiles;
    private FileStream? _file;
    private long _length;

    /// <param name="maxBytes">Roll beyond this size; long.MaxValue: never.</param>
    /// <param name="retainedFiles">Rolled files kept besides the current one.</param>
    public EventLogFile(string path, long maxBytes = long.MaxValue, int retainedFiles = 14)
    {
        _path = Path.GetFullPath(path);
        var kind = FileKinds.Of(_path);
        if (kind == FileKind.Directory) throw new IOException("it is a directory");
        // A device or a pipe (/dev/stdout, a FIFO to a shipper) is written into and never rolled:
        // rolling renames the file, and renaming /dev/null would take it from everyone.
        _maxBytes = kind is FileKind.Missing or FileKind.Regular or FileKind.SymbolicLink ? maxBytes : long.MaxValue;
        _retainedFiles = Math.Max(0, retainedFiles);
        var dir = Path.GetDirectoryName(_path);
        if (dir is not null) Directory.CreateDirectory(dir);
        Open();
    }

    public override string Name => _path;

    public override bool Buffers => false;

    public override void Append(ReadOnlySpan<byte> line)
    {
        if (_file is null) Open(); // the last roll could not open the new file: try again now
        if (_length > 0 && _length + line.Length > _maxBytes) Roll();
        var file = _file!;
        try
        {
            file.Write(line);
            _length += line.Length;
        }
        catch (IOException)
        {
            // Part of the line may be on disk: cut it off so the file ends with a whole event.
            try
            {
                file.SetLength(_length);
                file.Position = _length;
            }
            catch (IOException) { }
            throw;
        }
    }

    public override void Flush() { }

    public override void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    private void Open()
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0, // each line is one write(2)
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = Mode;
        var file = new FileStream(_path, options);
        _length = file.CanSeek ? file.Seek(0, SeekOrigin.End) : 0; // a FIFO cannot seek: nothing to append after
        _file = file;
    }

    private void Roll()
    {
        _file?.Dispose();
        _file = null;
        var dir = Path.GetDirectoryName(_path)!;
        var stem = Path.GetFileNameWithoutExtension(_path);
        var ext = Path.GetExtension(_path);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var pattern = new Regex("^" + Regex.Escape(stem) + @"-\d{8}T\d{6}Z-\d{3,}" + Regex.Escape(ext) + "$");
        string[] Rolled() => Directory.GetFiles(dir, $"{stem}-*{ext}")
            .Where(f => pattern.IsMatch(Path.GetFileName(f)))
            .Order(StringComparer.Ordinal).ToArray();
        // Several rolls in one second: the next number after the highest of that second, so that
        // names keep sorting by age even after the oldest were deleted.
        var sameSecond = Rolled().Where(f => Path.GetFileName(f).StartsWith($"{stem}-{stamp}-", StringComparison.Ordinal)).ToArray();
        int next = sameSecond.Length == 0 ? 0
            : sameSecond.Max(f => int.Parse(Path.GetFileNameWithoutExtension(f)[($"{stem}-{stamp}-".Length)..], CultureInfo.InvariantCulture)) + 1;
        File.Move(_path, Path.Combine(dir, $"{stem}-{stamp}-{next:D3}{ext}"));
        // Rolled names sort by age; only files named by this scheme are ever deleted.
        var rolled = Rolled();
        for (int i = 0; i < rolled.Length - _retainedFiles; i++) File.Delete(rolled[i]);
        Open();
    }
}
