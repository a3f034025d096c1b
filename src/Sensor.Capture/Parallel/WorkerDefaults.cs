using System.Globalization;

namespace Sensor.Capture.Parallel;

/// <summary>
/// How many threads analyse when the user does not say, chosen from measurement (bench/whole-run.sh,
/// bench/live-rate.sh; docs/performance.md). Sharding a file costs every worker a read and a decode of
/// every frame, so workers pay only when they get cores of their own: on this project's 2-core machine
/// with the other core busy, 2 workers took 1.2-1.4 times as long as one thread over the same 1 GB
/// capture (3.9 s against 2.7-3.3 s), and 1.4-1.6 times faster on a quiet machine.
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

    /// <summary>For live capture: every core, at most <see cref="MaxWorkers"/>.</summary>
    public static int ForLive() => ForLive(Environment.ProcessorCount);

    public static int ForLive(int cores) => Math.Clamp(cores, 1, MaxWorkers);

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
