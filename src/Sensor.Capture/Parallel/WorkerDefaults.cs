using System.Globalization;

namespace Sensor.Capture.Parallel;

/// <summary>
/// How many threads analyse when the user does not say, chosen from measurement (bench/whole-run.sh,
/// bench/live-rate.sh; docs/performance.md). Sharding a file costs every worker a read and a decode of
/// every frame, so workers pay only when they get cores of their own: on this project's 2-core machine
/// with the other core busy, 2 workers took 1.2-1.4 times as long as one thread over the same 1 GB
/// capture (3.9 s against 2.7-3.3 s, JIT build), while on the quiet machine the Native AOT build read
/// a 450 MB capture in 0.90-1.01 s with 2 workers against 1.43-1.51 s on one thread
/// (docs/performance.md, "Start-up").
/// </summary>
public static class WorkerDefaults
{
    /// <summary>Beyond this, reading the file once more per worker costs more than the worker gives.</summary>
    public const int MaxWorkers = 8;

    /// <summary>Below this a file is read on one thread: starting workers and merging their events costs more than they save.</summary>
    public const long MinShardedBytes = 32L << 20;

    /// <summary>
    /// For reading a file of <paramref name="bytes"/> (classic pcap): one thread below
    /// <see cref="MinShardedBytes"/>; otherwise the cores not busy right now: the cores this process may
    /// use (affinity and cgroup quota, <see cref="Environment.ProcessorCount"/>) less the threads
    /// running or waiting to run elsewhere on the machine; at least 1, at most <see cref="MaxWorkers"/>.
    /// The 1-minute load average, tried first, lags: after one run of the sensor it still counted a
    /// core as busy for a minute, so the next run chose one thread on a quiet machine.
    /// </summary>
    public static int ForFile(long bytes) =>
        bytes < MinShardedBytes ? 1 : ForFiles(Environment.ProcessorCount, RunnableElsewhere());

    public static int ForFiles(int cores, int runnableElsewhere) =>
        Math.Clamp(cores - Math.Max(0, runnableElsewhere), 1, Math.Min(cores, MaxWorkers));

    /// <summary>
    /// Threads running or runnable on the machine besides the caller, from the first number of the
    /// fourth field of /proc/loadavg (proc(5): "the number of currently runnable kernel scheduling
    /// entities", the reader included); the least of three looks a millisecond apart, so a blip is
    /// not taken for a busy core. 0 where there is no /proc.
    /// </summary>
    public static int RunnableElsewhere()
    {
        int least = int.MaxValue;
        for (int look = 0; look < 3; look++)
        {
            if (look > 0) Thread.Sleep(1);
            if (Runnable() is not { } running) return 0;
            least = Math.Min(least, running - 1);
        }
        return Math.Max(0, least);
    }

    /// <summary>The running count of /proc/loadavg ("0.20 0.18 0.12 1/80 11206"), or null.</summary>
    public static int? Runnable()
    {
        try
        {
            return ParseRunnable(File.ReadAllText("/proc/loadavg"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static int? ParseRunnable(string loadavg)
    {
        var fields = loadavg.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4) return null;
        int slash = fields[3].IndexOf('/');
        return slash > 0 && int.TryParse(fields[3].AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
    }

    /// <summary>
    /// For live capture: with workers, the capture thread needs a core of its own to keep the ring
    /// drained, so up to 2 cores the frames are analysed on the capture thread itself (1), and beyond
    /// that every core but the capture thread's, at most <see cref="MaxWorkers"/>. On this project's
    /// 2-core machine, the sensor alone at the most tcpreplay sends (bench/live-rate.sh --sensor-only
    /// max, Native AOT), one thread spent 1.4-2.1 µs of CPU per packet and 2 workers 2.1-3.0 µs (the
    /// hand-over and three threads on two cores), with no drop either way; p99 latency 12-17 ms
    /// against 23-36 ms. Beyond 2 cores, AF_PACKET fanout over several processes
    /// (<c>--fanout-group</c>) is the measured way to use more of them.
    /// </summary>
    public static int ForLive() => ForLive(Environment.ProcessorCount);

    public static int ForLive(int cores) => cores <= 2 ? 1 : Math.Min(cores - 1, MaxWorkers);
}
