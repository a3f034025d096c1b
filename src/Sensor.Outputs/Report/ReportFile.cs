using System.Text;
using Sensor.Core.Platform;

namespace Sensor.Outputs.Report;

/// <summary>
/// Where the report goes. Opened before the read starts, so an unwritable path fails in a second, not
/// after an hour of analysis: the page is written into a temporary file beside the destination
/// (created 0640: it names users and servers) and renamed over it only when complete, so a failed
/// write (a full disk) never leaves a half page that looks whole.
/// </summary>
public sealed class ReportFile : IDisposable
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private readonly string _temporary;
    private readonly bool _direct;
    private FileStream? _file;

    /// <exception cref="IOException">The folder does not exist or cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to create a file there.</exception>
    public ReportFile(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        var kind = FileKinds.Of(Path);
        if (kind == FileKind.Directory) throw new IOException("it is a directory");
        if (kind is FileKind.Missing or FileKind.Regular)
        {
            // A symbolic link stays a link: the page replaces the file it points to.
            if (FileKinds.Of(Path, followLinks: false) == FileKind.SymbolicLink && File.ResolveLinkTarget(Path, returnFinalTarget: true) is { } target)
                Path = target.FullName;
        }
        else
        {
            // A device or a pipe (`-r /dev/stdout`) is written into as it is: renaming a file over it
            // would put a regular file in place of /dev/null for everyone.
            _direct = true;
            _temporary = Path;
            _file = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            return;
        }
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        _temporary = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = Mode;
        try
        {
            _file = new FileStream(_temporary, options);
        }
        catch (DirectoryNotFoundException)
        {
            throw new IOException($"no such folder '{dir}'"); // rather than the name of the temporary file
        }
    }

    public string Path { get; }

    /// <summary>Writes the page and puts it in place. On an <see cref="IOException"/> nothing is left behind.</summary>
    public void Write(string page)
    {
        var file = _file ?? throw new ObjectDisposedException(nameof(ReportFile));
        try
        {
            file.Write(Encoding.UTF8.GetBytes(page));
            file.Flush(flushToDisk: !_direct); // fsync(2) is for files, not pipes or devices
            file.Dispose();
            _file = null;
            if (!_direct) File.Move(_temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw new IOException(e.Message, e);
        }
    }

    /// <summary>Removes the temporary file if the page was not written.</summary>
    public void Dispose()
    {
        if (_file is null) return;
        try { _file.Dispose(); } catch (IOException) { } // a failed flush of nothing written
        _file = null;
        if (_direct) return;
        try { File.Delete(_temporary); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
