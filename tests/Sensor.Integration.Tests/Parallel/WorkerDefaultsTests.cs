using Sensor.Capture.Parallel;

namespace Sensor.Integration.Tests.Parallel;

/// <summary>The default worker counts (docs/performance.md, docs/live-capture.md).</summary>
public sealed class WorkerDefaultsTests
{
    [Theory]
    [InlineData(2, 0, 2)]    // a quiet 2-core machine: both cores
    [InlineData(2, 1, 1)]    // the other core busy: one thread, which measured faster there
    [InlineData(2, 30, 1)]   // never fewer than one
    [InlineData(1, 0, 1)]
    [InlineData(4, 1, 3)]
    [InlineData(16, 0, WorkerDefaults.MaxWorkers)] // never more than the bound
    [InlineData(16, 10, 6)]
    [InlineData(2, -1, 2)]   // a nonsense reading counts as idle
    public void FileReadsUseTheCoresNotBusyElsewhere(int cores, int runnableElsewhere, int expected) =>
        Assert.Equal(expected, WorkerDefaults.ForFiles(cores, runnableElsewhere));

    [Fact]
    public void SmallFilesAreReadOnOneThread()
    {
        Assert.Equal(1, WorkerDefaults.ForFile(0));
        Assert.Equal(1, WorkerDefaults.ForFile(WorkerDefaults.MinShardedBytes - 1));
        Assert.InRange(WorkerDefaults.ForFile(WorkerDefaults.MinShardedBytes), 1, Math.Min(Environment.ProcessorCount, WorkerDefaults.MaxWorkers));
    }

    [Theory]
    [InlineData("0.20 0.18 0.12 1/80 11206\n", 1)]
    [InlineData("4.62 5.04 4.35 7/147 20299", 7)]
    [InlineData("0.00 0.00 0.00 12/3000 1", 12)]
    [InlineData("0.20 0.18 0.12", null)]       // too few fields
    [InlineData("0.20 0.18 0.12 x/80 1", null)]
    [InlineData("0.20 0.18 0.12 0/80 1", null)] // the reader itself always runs
    [InlineData("0.20 0.18 0.12 -3/80 1", null)]
    [InlineData("", null)]
    public void TheRunnableCountIsTheFourthFieldOfProcLoadavg(string text, int? expected) =>
        Assert.Equal(expected, WorkerDefaults.ParseRunnable(text));

    [Fact]
    public void AThreadSpinningOnTheOtherCoreIsSeenAsBusy()
    {
        // A real busy thread in this process: while it spins, at least one thread besides the caller runs.
        using var stop = new CancellationTokenSource();
        var spinner = new Thread(() => { while (!stop.IsCancellationRequested) Thread.SpinWait(1000); }) { IsBackground = true };
        spinner.Start();
        try
        {
            Thread.Sleep(50);
            Assert.True(WorkerDefaults.RunnableElsewhere() >= 1);
            if (Environment.ProcessorCount == 2) Assert.Equal(1, WorkerDefaults.ForFile(WorkerDefaults.MinShardedBytes));
        }
        finally
        {
            stop.Cancel();
            spinner.Join();
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]   // analysed on the capture thread: measured cheaper and never slower here
    [InlineData(3, 2)]   // a core for the capture thread, the rest for workers
    [InlineData(4, 3)]
    [InlineData(64, WorkerDefaults.MaxWorkers)]
    public void LiveCaptureLeavesTheCaptureThreadACore(int cores, int expected) =>
        Assert.Equal(expected, WorkerDefaults.ForLive(cores));
}
