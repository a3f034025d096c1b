namespace Sensor.Outputs.Metrics;

/// <summary>
/// The spool's directories and files belong to their user alone (0700, 0600): the base may sit in a
/// shared place, and when which servers saw logins is nobody else's business.
/// </summary>
internal static class OwnerOnly
{
    private const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(path);
        else System.IO.Directory.CreateDirectory(path, Directory);
    }

    /// <summary>Opens a file, creating it 0600 if missing (<paramref name="mode"/> must allow creation).</summary>
    public static FileStream Open(string path, FileMode mode, FileAccess access, FileShare share = FileShare.Read, int bufferSize = 4096)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = File;
        return new FileStream(path, options);
    }

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        using var file = Open(path, FileMode.Create, FileAccess.Write);
        file.Write(bytes);
    }
}
