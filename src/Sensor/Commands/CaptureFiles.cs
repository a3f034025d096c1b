using Sensor.Core.Platform;

namespace Sensor.Commands;

/// <summary>Turns the PATH arguments into the capture files to read, in a stable order.</summary>
public static class CaptureFiles
{
    private static readonly string[] Extensions = [".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz", ".cap.gz"];

    /// <summary>
    /// Each path as it is (a file, a named pipe, "-" for standard input), or a folder's capture files,
    /// searched recursively. A folder that cannot be listed (no permission, a name too long) is a problem
    /// of its own and the rest is still read; in a folder only regular files are taken, since opening a
    /// named pipe or a device met there would wait for a writer or read without end.
    /// </summary>
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
                var files = new List<string>();
                var problems = new List<(string, string?)>();
                Search(p, files, problems);
                files.Sort(StringComparer.Ordinal);
                if (files.Count == 0 && problems.Count == 0) yield return (p, "folder holds no capture files (.pcap, .pcapng, .cap, .dmp, also gzip'ed)");
                foreach (var problem in problems) yield return problem;
                foreach (var f in files) yield return (f, null);
            }
            else
            {
                // PATH_MAX (4096 with its NUL) is the kernel's limit for a path it is handed whole.
                yield return (p, p.Length >= 4096 ? "path too long to open (over 4,095 bytes)"
                    : LostInDecoding(p) ? NotUtf8 : "no such file or folder");
            }
        }
    }

    /// <summary>
    /// .NET turns the bytes of a file name (an argument, a folder entry) into a string as UTF-8 and puts
    /// U+FFFD where they are not UTF-8; the string then names another file, so such a file cannot be
    /// opened by this program at all. Said so, rather than "no such file" for a file the user can see.
    /// </summary>
    private const string NotUtf8 = "its name is not valid UTF-8, and this program can open only UTF-8 names: " +
                                   "rename it (convmv(1)) or give a link to it with a UTF-8 name";

    private static bool LostInDecoding(string path) => path.Contains('\uFFFD');

    private static void Search(string folder, List<string> files, List<(string, string?)> problems)
    {
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
                {
                    var kind = FileKinds.Of(entry, followLinks: false);
                    if (kind == FileKind.Missing)
                    {
                        // Listed but not there to examine: gone since, a path over PATH_MAX, or a name
                        // that is not UTF-8 (listed with U+FFFD in place of its bytes, so not found).
                        problems.Add((entry, LostInDecoding(entry) ? NotUtf8 : "cannot be examined (removed meanwhile, or its path is too long)"));
                        continue;
                    }
                    // Links to folders are not followed (as find(1) without -L): a link back up the
                    // tree would be searched for ever, and one across it would read files twice.
                    if (kind == FileKind.Directory) pending.Push(entry);
                    if (kind is FileKind.Directory || !Extensions.Any(e => entry.EndsWith(e, StringComparison.OrdinalIgnoreCase))) continue;
                    if (kind == FileKind.SymbolicLink) kind = FileKinds.Of(entry);
                    if (kind == FileKind.Regular) files.Add(entry);
                    else if (kind is not (FileKind.Missing or FileKind.Directory))
                        problems.Add((entry, $"skipped in the folder scan: {FileKinds.Describe(kind)} (name it on its own to read it)"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add((dir, "cannot search this folder: " + e.Message));
            }
        }
    }
}
