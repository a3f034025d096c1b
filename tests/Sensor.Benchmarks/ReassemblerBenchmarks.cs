using BenchmarkDotNet.Attributes;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

/// <summary>
/// (c) <see cref="TcpReassembler"/> alone: one connection (SYN, SYN-ACK, 1024 data segments of 1448
/// bytes from the client, FIN both ways) into a consumer that only counts bytes. In order, and with
/// the segments shuffled within each run of 8 (up to 7 held out of order at once). Reported per data
/// segment; the connection's set-up and close are included (1/1024 of each).
/// </summary>
[MemoryDiagnoser]
public class ReassemblerBenchmarks
{
    public const int Segments = 1024, SegmentBytes = 1448;

    private static readonly IpEndpoint Client = IpEndpoint.Parse("10.1.0.1", 50_000);
    private static readonly IpEndpoint Server = IpEndpoint.Parse("10.2.0.1", 143);

    private readonly byte[] _stream = new byte[Segments * SegmentBytes];
    private readonly int[] _inOrder = new int[Segments];
    private readonly int[] _reordered = new int[Segments];
    private readonly CountingFactory _factory = new();
    private readonly SensorCounters _counters = new();
    private TcpReassembler _reassembler = null!;
    private uint _clientIsn = 0xFFFF0000; // wraps around 2^32 within the first stream
    private uint _serverIsn = 1;
    private long _now = 1_735_812_000_000_000_000;

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_stream);
        var rng = new Random(11);
        for (int i = 0; i < Segments; i++) _inOrder[i] = _reordered[i] = i;
        for (int block = 0; block < Segments; block += 8)
            rng.Shuffle(_reordered.AsSpan(block, 8));
        _reassembler = new TcpReassembler(_factory, new ReassemblyLimits(), _counters, [143]);

        foreach (var order in new[] { _inOrder, _reordered })
        {
            long before = _factory.Bytes;
            Run(order);
            if (_factory.Bytes - before != _stream.Length || _counters.Gaps != 0 || _reassembler.FlowCount != 0)
                throw new InvalidOperationException($"reassembly check failed: {_factory.Bytes - before} bytes, {_counters.Gaps} gaps, {_reassembler.FlowCount} flows left");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Segments, Description = "TcpReassembler.OnSegment, in order, per segment")]
    public long InOrder() => Run(_inOrder);

    [Benchmark(OperationsPerInvoke = Segments, Description = "TcpReassembler.OnSegment, shuffled by 8, per segment")]
    public long Reordered() => Run(_reordered);

    private long Run(int[] order)
    {
        var r = _reassembler;
        uint c = _clientIsn, s = _serverIsn;
        r.OnSegment(new TcpSegment(Client, Server, c, 0, TcpFlags.Syn, default, Tick()));
        r.OnSegment(new TcpSegment(Server, Client, s, c + 1, TcpFlags.Syn | TcpFlags.Ack, default, Tick()));
        uint data = c + 1;
        foreach (int i in order)
        {
            r.OnSegment(new TcpSegment(Client, Server, data + (uint)(i * SegmentBytes), s + 1, TcpFlags.Ack | TcpFlags.Psh,
                _stream.AsSpan(i * SegmentBytes, SegmentBytes), Tick()));
        }
        uint end = data + (uint)_stream.Length;
        r.OnSegment(new TcpSegment(Client, Server, end, s + 1, TcpFlags.Fin | TcpFlags.Ack, default, Tick()));
        r.OnSegment(new TcpSegment(Server, Client, s + 1, end + 1, TcpFlags.Fin | TcpFlags.Ack, default, Tick()));
        _clientIsn = end + 1000;
        _serverIsn = s + 1000;
        return _factory.Bytes;
    }

    private long Tick() => _now += 10_000;

    private sealed class CountingFactory : IStreamConsumerFactory, IStreamConsumer
    {
        public long Bytes;
        public IStreamConsumer Create(TcpFlow flow) => this;
        public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
        {
            Bytes += data.Length;
            return true;
        }
        public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs) { }
        public void OnClose(FlowCloseReason reason, long timestampNs) { }
    }
}
