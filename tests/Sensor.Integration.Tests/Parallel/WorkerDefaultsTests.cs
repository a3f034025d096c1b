using Sensor.Capture.Parallel;

namespace Sensor.Integration.Tests.Parallel;

/// <summary>The default worker count for a file read: the cores not already busy (docs/performance.md).</summary>
public sealed class WorkerDefaultsTests
{
    [Theory]
    [InlineData(2, 0.0, 2)]   // a quiet 2-core machine: both cores
    [InlineData(2, 0.4, 2)]
    [InlineData(2, 0.6, 1)]   // about one core busy: one thread, which measured faster there
    [InlineData(2, 1.3, 1)]
    [InlineData(2, 30.0, 1)]  // never fewer than one
    [InlineData(1, 0.0, 1)]
    [InlineData(4, 1.0, 3)]
    [InlineData(16, 0.0, WorkerDefaults.MaxWorkers)] // never more than the bound
    [InlineData(16, 10.2, 6)]
    [InlineData(2, -1.0, 2)]  // a nonsense reading counts as idle
    public void FileReadsUseTheCoresNotAlreadyBusy(int cores, double load, int expected) =>
        Assert.Equal(expected, WorkerDefaults.ForFiles(cores, load));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]   // analysed on the capture thread: measured cheaper and never slower here
    [InlineData(3, 2)]   // a core for the capture thread, the rest for workers
    [InlineData(4, 3)]
    [InlineData(64, WorkerDefaults.MaxWorkers)]
    public void LiveCaptureLeavesTheCaptureThreadACore(int cores, int expected) =>
        Assert.Equal(expected, WorkerDefaults.ForLive(cores));

    [Fact]
    public void TheLoadAverageIsTheFirstFieldOfProcLoadavg()
    {
        static double Proc() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        double before = Proc(), load = WorkerDefaults.LoadAverage(), after = Proc();
        // The kernel may update it between the reads (every 5 s): it is one of the two.
        Assert.True(load == before || load == after, $"{load}, read between {before} and {after}");
    }
}
