using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Core.Events;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture.Parallel;

/// <summary>
/// Live capture on several cores: the capture thread decodes just enough of each frame to find its
/// connection's <see cref="FlowShard"/>, copies it into that worker's batch, and goes back to
/// libpcap; each worker runs its own pipeline over its connections. Batches are handed over when
/// full and whenever the capture goes idle (so a login on a quiet link is reported at once), with
/// the clock riding along for idle expiry. Events from all workers pass one lock into the server
/// posture tracker and the outputs; their order across connections is arrival order, not the
/// strict capture order a file read guarantees.
/// </summary>
public sealed class ParallelLiveAnalysis : IFrameAnalysis, IDisposable
{
    private const int BatchesPerWorker = 8;

    private readonly int _workers;
    private readonly PacketPipeline[] _pipelines;
    private readonly BlockingCollection<FrameBatch>[] _work;
    private readonly BlockingCollection<FrameBatch>[] _free;
    private readonly FrameBatch?[] _current;
    private readonly Thread[] _threads;
    private volatile Exception? _failure;
    private bool _finished;

    public ParallelLiveAnalysis(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 2);
        _workers = workers;
        var shared = new LockedSink(new ServerPostureTracker(sink));
        var shardLimits = WorkerShare.Of(limits, workers);
        var shardOptions = WorkerShare.Of(options, workers);
        _pipelines = new PacketPipeline[workers];
        _work = new BlockingCollection<FrameBatch>[workers];
        _free = new BlockingCollection<FrameBatch>[workers];
        _current = new FrameBatch?[workers];
        _threads = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            _pipelines[i] = PacketPipeline.ForShard(shardOptions, shardLimits, shared, new FlowShard(i, workers));
            _work[i] = new BlockingCollection<FrameBatch>(new ConcurrentQueue<FrameBatch>());
            _free[i] = new BlockingCollection<FrameBatch>(new ConcurrentQueue<FrameBatch>());
            for (int b = 0; b < BatchesPerWorker; b++) _free[i].Add(new FrameBatch());
            int index = i;
            _threads[i] = new Thread(() => Work(index)) { IsBackground = true, Name = $"live worker {i}/{workers}" };
            _threads[i].Start();
        }
    }

    public SensorCounters Counters
    {
        get
        {
            var sum = new SensorCounters();
            foreach (var p in _pipelines) sum.Add(p.Counters);
            return sum;
        }
    }

    public int FlowCount => _pipelines.Sum(p => p.FlowCount);

    public void OnFrame(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
        ThrowIfWorkerFailed();
        int owner = FrameDecoder.Decode(link, frame, timestampNs, out var segment, out _) == DecodeResult.Tcp
            ? FlowShard.IndexOf(segment, _workers)
            : 0;
        var batch = _current[owner] ??= _free[owner].Take();
        if (!batch.TryAdd(link, frame, wireLength, timestampNs))
        {
            Send(owner);
            batch = _current[owner] = _free[owner].Take();
            batch.TryAdd(link, frame, wireLength, timestampNs);
        }
        if (batch.IsFull) Send(owner);
    }

    /// <summary>The capture is idle (or a second passed): hand over what is waiting, with the clock.</summary>
    public void AdvanceTime(long timestampNs)
    {
        ThrowIfWorkerFailed();
        for (int i = 0; i < _workers; i++)
        {
            var batch = _current[i] ??= _free[i].Take();
            batch.TickNs = timestampNs;
            Send(i);
        }
    }

    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        for (int i = 0; i < _workers; i++)
        {
            var batch = _current[i] ??= _free[i].Take();
            batch.EndOfCapture = true;
            Send(i);
        }
        foreach (var t in _threads) t.Join();
        ThrowIfWorkerFailed();
    }

    public void Dispose()
    {
        Finish();
        foreach (var c in _work) c.Dispose();
        foreach (var c in _free) c.Dispose();
    }

    private void Send(int worker)
    {
        _work[worker].Add(_current[worker]!);
        _current[worker] = null;
    }

    private void ThrowIfWorkerFailed()
    {
        if (_failure is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    private void Work(int index)
    {
        var pipeline = _pipelines[index];
        foreach (var batch in _work[index].GetConsumingEnumerable())
        {
            bool end = batch.EndOfCapture;
            if (_failure is null)
            {
                try
                {
                    for (int f = 0; f < batch.Count; f++)
                    {
                        var (offset, length, wire, ts) = batch.Frames[f];
                        pipeline.OnFrame(batch.Link, batch.Bytes.AsSpan(offset, length), wire, ts);
                    }
                    if (batch.TickNs >= 0) pipeline.AdvanceTime(batch.TickNs);
                    if (end) pipeline.Finish();
                }
                catch (Exception e)
                {
                    // Reported on the capture thread at its next call; keep draining so it never blocks.
                    _failure = e;
                }
            }
            batch.Reset();
            _free[index].Add(batch);
            if (end) return;
        }
    }
}
