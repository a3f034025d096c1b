using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Faults;

/// <summary>
/// A tmpfs of a few KiB the test mounts (the tests run as root), so that a full disk is real:
/// write(2) fails with ENOSPC exactly as on a full log partition. Unmounted on dispose.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    public SmallDisk(int kib)
    {
        Path = Directory.CreateTempSubdirectory("sensor-smalldisk-").FullName;
        var (code, _, err) = ExternalProcess.RunToEnd("mount", ["-t", "tmpfs", "-o", $"size={kib}k,mode=0755", "tmpfs", Path], TimeSpan.FromSeconds(10));
        if (code != 0) throw new InvalidOperationException($"cannot mount a tmpfs for the full-disk test (root needed): {err}");
    }

    public string Path { get; }

    /// <summary>Takes all but <paramref name="bytes"/> of the free space with a filler file; delete it to free the disk.</summary>
    public string FillLeaving(long bytes)
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        var free = new DriveInfo(Path).AvailableFreeSpace;
        using (var f = new FileStream(filler, FileMode.Create))
        {
            var chunk = new byte[4096];
            long left = Math.Max(0, free - bytes);
            while (left > 0)
            {
                int n = (int)Math.Min(chunk.Length, left);
                try { f.Write(chunk, 0, n); } catch (IOException) { break; }
                left -= n;
            }
        }
        return filler;
    }

    public void Dispose()
    {
        ExternalProcess.RunToEnd("umount", ["-l", Path], TimeSpan.FromSeconds(10));
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
