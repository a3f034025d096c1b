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

    /// <summary>
    /// For a file read: the cores not already busy, as make's <c>-l</c> judges it: the cores this process
    /// may use (affinity and cgroup quota, <see cref="Environment.ProcessorCount"/>) less the 1-minute
    /// load average, rounded; at least 1, at most <see cref="MaxWorkers"/>.
    /// </summary>
    public static int ForFiles() => ForFiles(Environment.ProcessorCount, LoadAverage());

    public static int ForFiles(int cores, double loadAverage) =>
        Math.Clamp((int)Math.Floor(cores - Math.Max(0, loadAverage) + 0.5), 1, Math.Min(cores, MaxWorkers));

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

    /// <summary>The 1-minute load average (proc(5) /proc/loadavg), or 0 where there is none.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            int space = text.IndexOf(' ');
            return space > 0 && double.TryParse(text.AsSpan(0, space), NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
