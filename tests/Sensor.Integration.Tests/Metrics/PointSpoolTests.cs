using System.Text;
using Sensor.Outputs.Metrics;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// The disk spool on its own: bounded with counted drops, appends never lost to a segment being
/// replayed, a point cut short by a crash skipped and counted, a directory per target that is its
/// user's alone and used by one run at a time, and an unusable directory never a crash.
/// </summary>
public sealed class PointSpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-spool-").FullName;

    public PointSpoolTests() => LogCapture.Install();

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void AFullSpoolDropsTheOldestPointsAndCountsThem()
    {
        var counters = new MetricCounters();
        using var spool = new PointSpool(_dir, maxBytes: 3 * 1024 * 1024, counters);
        var line = "mail_auth,sensor=s,server=10.0.0.1 count=1i ";
        long ts = 1;
        // ~6 MiB in segments of at most 1 MiB: the oldest segments must go.
        for (int batch = 0; batch < 60; batch++)
            spool.Append(Enumerable.Range(0, 2000).Select(_ => line + ts++).ToList());
        long onDisk = Directory.GetFiles(_dir, "spool-*").Sum(f => new FileInfo(f).Length);
        Assert.True(onDisk <= 3 * 1024 * 1024 + 1024 * 1024, $"{onDisk} bytes on disk");
        Assert.True(counters.PointsDropped > 0);
        Assert.Equal(120_000, counters.PointsSpooled);
        Assert.Equal(120_000 - counters.PointsDropped, counters.PointsPending);
        // What is left is the newest, in order: the first kept follows the last dropped.
        Assert.Equal(counters.PointsDropped + 1, long.Parse(spool.Oldest()!.Lines[0].Split(' ')[^1]));
        var all = Directory.GetFiles(_dir, "spool-*").Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).ToList();
        Assert.Equal(line + (ts - 1), all[^1]);
        Assert.Equal(120_000 - counters.PointsDropped, all.Count);
        Assert.Single(LogCapture.Containing(_dir), l => l.Contains("is full"));
    }

    [Fact]
    public void PointsAppendedWhileTheOnlySegmentIsReplayedGoToANewerOneAndSurviveItsRemoval()
    {
        var counters = new MetricCounters();
        using var spool = new PointSpool(_dir, 1 << 20, counters);
        spool.Append(["a 1", "a 2"]);
        var replaying = spool.Oldest()!;
        Assert.Equal(["a 1", "a 2"], replaying.Lines);

        spool.Append(["b 3"]); // arrives while "a" is with the server
        spool.Remove(replaying); // the server took "a"

        Assert.False(spool.IsEmpty);
        Assert.Equal(["b 3"], spool.Oldest()!.Lines);
        Assert.Equal(1, counters.PointsPending);
        Assert.Equal(3, counters.PointsSpooled);
    }

    [Fact]
    public void APartlyDeliveredSegmentKeepsOnlyWhatWasNotDelivered()
    {
        var counters = new MetricCounters();
        using var spool = new PointSpool(_dir, 1 << 20, counters);
        spool.Append(["a 1", "a 2", "a 3"]);
        var segment = spool.Oldest()!;
        spool.Replace(segment, ["a 3"]);
        Assert.Equal(1, counters.PointsPending);
        Assert.Equal(["a 3"], spool.Oldest()!.Lines);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void ALastPointCutShortByACrashIsDroppedCountedAndNeverSent()
    {
        // What a SIGKILL in the middle of an append leaves: the last line without its newline.
        File.WriteAllText(Path.Combine(_dir, "spool-000000000007.lp"), "mail_auth count=1i 1\nmail_auth count=1i 2\nmail_auth cou", new UTF8Encoding(false));
        var counters = new MetricCounters();
        using (var spool = new PointSpool(_dir, 1 << 20, counters))
        {
            Assert.Equal(3, counters.PointsRecovered);
            Assert.Equal(1, counters.PointsDropped);
            Assert.Equal(2, counters.PointsPending);
            spool.Append(["mail_auth count=1i 3"]); // never glued to the piece cut short
            var oldest = spool.Oldest()!;
            Assert.Equal(["mail_auth count=1i 1", "mail_auth count=1i 2"], oldest.Lines);
            spool.Remove(oldest);
            Assert.Equal(["mail_auth count=1i 3"], spool.Oldest()!.Lines);
        }
        Assert.Single(LogCapture.Containing(_dir), l => l.Contains("cut short"));
    }

    [Fact]
    public void TheSpoolDirectoryAndItsFilesAreTheUsersAlone()
    {
        var target = Path.Combine(_dir, "base", "target");
        using var spool = new PointSpool(target, 1 << 20, new MetricCounters(), "url=http://x:1\n");
        spool.Append(["m count=1i 1"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(target));
        foreach (var file in Directory.GetFiles(target))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal("url=http://x:1\n", File.ReadAllText(Path.Combine(target, "target.txt")));
    }

    [Fact]
    public void ASecondRunForTheSameTargetKeepsNoSpoolRatherThanShareOne()
    {
        var first = new MetricCounters();
        var second = new MetricCounters();
        using var one = new PointSpool(_dir, 1 << 20, first);
        using (var two = new PointSpool(_dir, 1 << 20, second))
        {
            Assert.False(two.Usable);
            two.Append(["m count=1i 1"]);
            Assert.Equal(1, second.PointsDropped);
        }
        Assert.True(one.Usable);
        one.Append(["m count=1i 2"]);
        Assert.Equal(1, first.PointsPending);
        Assert.Single(LogCapture.Containing(_dir), l => l.Contains("in use by another sensor run"));
    }

    [Fact]
    public void ADirectoryThatCannotBeCreatedMakesTheSpoolUnusableNotACrash()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        var counters = new MetricCounters();
        using var spool = new PointSpool(Path.Combine(file, "spool"), 1 << 20, counters);
        Assert.False(spool.Usable);
        Assert.True(spool.IsEmpty);
        spool.Append(["m count=1i 1", "m count=1i 2"]);
        Assert.Equal(2, counters.PointsDropped);
        Assert.Equal(0, counters.PointsPending);
        Assert.Single(LogCapture.Containing(file), l => l.Contains("cannot be used"));
    }
}
