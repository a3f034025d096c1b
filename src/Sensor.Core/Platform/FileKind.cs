using System.Runtime.InteropServices;

namespace Sensor.Core.Platform;

/// <summary>What a path names: .NET's FileInfo tells a folder from the rest but not a regular file from a
/// named pipe or a device, and the sensor must not open a pipe it only came across in a folder (the open
/// waits for a writer), nor put a report in place of /dev/null by renaming a file over it.</summary>
public enum FileKind { Missing, Regular, Directory, NamedPipe, CharacterDevice, BlockDevice, Socket, SymbolicLink, Other }

public static class FileKinds
{
    /// <summary>
    /// The kind of <paramref name="path"/>, through symbolic links unless <paramref name="followLinks"/> is
    /// false. statx(2) with STATX_TYPE: its result has one layout on every architecture, unlike stat(2).
    /// <see cref="FileKind.Missing"/> also when the path cannot be examined (no permission on a folder of it).
    /// </summary>
    public static unsafe FileKind Of(string path, bool followLinks = true)
    {
        if (!OperatingSystem.IsLinux()) return File.Exists(path) ? FileKind.Regular : Directory.Exists(path) ? FileKind.Directory : FileKind.Missing;
        byte* buffer = stackalloc byte[256]; // struct statx is 256 bytes
        if (statx(AtCurrentDirectory, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType, buffer) != 0) return FileKind.Missing;
        ushort mode = *(ushort*)(buffer + 28); // stx_mode
        return (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.NamedPipe,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
    }

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.NamedPipe => "a named pipe",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.Directory => "a folder",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Missing => "missing",
        _ => "not a regular file",
    };

    private const int AtCurrentDirectory = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
