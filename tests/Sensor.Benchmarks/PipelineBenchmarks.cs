using BenchmarkDotNet.Attributes;
using PacketDotNet;
using Sensor.Benchmarks.Support;
using Sensor.Capture;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

/// <summary>
/// (a) The whole per-packet path, decode + reassembly + detection + IMAP/POP3 sessions + events (to a
/// null sink): every frame of a generated capture (300 mail sessions, 90 noise flows, seed 1) fed
/// through a fresh <see cref="PacketPipeline"/>, then <c>Finish</c>. Reported per packet.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const int Sessions = 300, Seed = 1;

    /// <summary>Packets in `capture-gen --sessions 300 --seed 1` (the generator is deterministic).
    /// If the generator changes, GlobalSetup says so and this constant must follow.</summary>
    public const int CapturePackets = 12_296;

    private readonly AnalysisOptions _options = new();
    private readonly ReassemblyLimits _limits = new();
    private Frame[] _frames = [];
    private LinkLayers _link;

    [GlobalSetup]
    public void Setup()
    {
        string pcap = GeneratedCapture.Get(Sessions, Seed);
        _frames = PcapFile.Read(pcap, out _link);
        if (_frames.Length != CapturePackets)
            throw new InvalidOperationException(
                $"{pcap} has {_frames.Length} packets, not {CapturePackets}: the generator changed; update PipelineBenchmarks.CapturePackets");
        long expected = GeneratedCapture.Expected(pcap, "auth_events");
        long found = Run();
        if (found != expected)
            Console.WriteLine($"// WARNING: the pipeline reported {found} logins, the capture holds {expected}");
    }

    [Benchmark(OperationsPerInvoke = CapturePackets, Description = "PacketPipeline.OnFrame, per packet (300-session capture)")]
    public long PipelinePerPacket() => Run();

    private long Run()
    {
        var pipeline = new PacketPipeline(_options, _limits, NullSink.Instance);
        var link = _link;
        foreach (var f in _frames)
            pipeline.OnFrame(link, f.Data, f.WireLength, f.TimestampNs);
        pipeline.Finish();
        return pipeline.Counters.AuthEvents;
    }
}
