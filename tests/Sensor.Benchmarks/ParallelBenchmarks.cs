using BenchmarkDotNet.Attributes;
using Sensor.Benchmarks.Support;
using Sensor.Capture.Decoding;
using Sensor.Capture.Parallel;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

/// <summary>
/// (e) A whole file through <see cref="ParallelFileAnalysis"/> with 1 and 2 workers, in process
/// (no start-up, no output): what sharding flows over workers gives on this machine. The capture is
/// `capture-gen --sessions 5000 --seed 2` (about 110 MB, page-cached after the first run).
/// </summary>
[MemoryDiagnoser]
public class ParallelBenchmarks
{
    private string _pcap = "";
    private long _expected;

    [Params(1, 2)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pcap = GeneratedCapture.Get(5000, 2);
        _expected = GeneratedCapture.Expected(_pcap, "auth_events");
        if (Run() != _expected) throw new InvalidOperationException("the parallel analysis did not find every login");
    }

    [Benchmark(Description = "ParallelFileAnalysis.Run, whole file")]
    public long Run()
    {
        var sink = new NullSink();
        var outcome = ParallelFileAnalysis.Run(_pcap, Workers, new AnalysisOptions(), new ReassemblyLimits(), sink, FrameDecoder.IsSupported);
        return outcome.Counters.AuthEvents;
    }
}
