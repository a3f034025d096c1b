using BenchmarkDotNet.Attributes;
using Sensor.Benchmarks.Support;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

/// <summary>
/// (e) A whole file in process (no start-up, no output), three ways: the single-threaded path
/// `sensor read --threads 1` takes; <see cref="ParallelFileAnalysis"/> with 1 and 2 workers; and, as
/// the machine's ceiling, the single-threaded path run on one thread and on two threads at once over
/// the same file (independent work: nothing shared, nothing merged). The ceiling says how much more
/// work per second this machine's cores give when all are busy, which bounds what sharding can give.
/// The capture is `capture-gen --sessions 5000 --seed 2` (about 110 MB, page-cached after the first run).
/// </summary>
[MemoryDiagnoser]
public class ParallelBenchmarks
{
    private string _pcap = "";
    private long _expected;

    [GlobalSetup]
    public void Setup()
    {
        _pcap = GeneratedCapture.Get(5000, 2);
        _expected = GeneratedCapture.Expected(_pcap, "auth_events");
        if (SingleThreaded() != _expected || Sharded(2) != _expected)
            throw new InvalidOperationException("the analysis did not find every login");
    }

    [Benchmark(Baseline = true, Description = "single-threaded (read --threads 1)")]
    public long SingleThreaded()
    {
        var pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), new NullSink());
        using var reader = PcapFileReader.Open(_pcap);
        var link = reader.LinkType;
        while (reader.Next(out var frame, out int wireLength, out long ts) == PcapReadStatus.Packet)
            pipeline.OnFrame(link, frame, wireLength, ts);
        pipeline.Finish();
        return pipeline.Counters.AuthEvents;
    }

    [Benchmark(Description = "ParallelFileAnalysis, 1 worker")]
    public long OneWorker() => Sharded(1);

    [Benchmark(Description = "ParallelFileAnalysis, 2 workers")]
    public long TwoWorkers() => Sharded(2);

    /// <summary>Twice the work of <see cref="SingleThreaded"/>: ceiling speed-up = 2 x baseline / this.</summary>
    [Benchmark(Description = "ceiling: 2 independent single-threaded runs at once")]
    public long TwoIndependentRuns()
    {
        long other = 0;
        var thread = new Thread(() => other = SingleThreaded());
        thread.Start();
        long mine = SingleThreaded();
        thread.Join();
        return mine + other;
    }

    private long Sharded(int workers)
    {
        var outcome = ParallelFileAnalysis.Run(_pcap, workers, new AnalysisOptions(), new ReassemblyLimits(), new NullSink(), FrameDecoder.IsSupported);
        return outcome.Counters.AuthEvents;
    }
}
