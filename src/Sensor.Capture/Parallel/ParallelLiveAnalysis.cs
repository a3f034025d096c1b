using System.Diagnostics;
using System.Runtime.CompilerServices;
using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Live;
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
/// <para>
/// A worker that fails (a bug outside the per-connection fault boundary) stops analysing: its
/// connections can no longer be trusted. The capture thread learns of it at its next call and
/// stops the capture; the other workers go on and settle their connections at <see cref="Finish"/>.
/// </para>
/// </summary>
public sealed class ParallelLiveAnalysis : IFrameAnalysis, IDisposable
{
    private const int BatchesPerWorker = 8;
    /// <summary>
    /// How long <see cref="Finish"/> waits for the workers, all together: a worker stuck in a bug
    /// must not hold back the flush of what the others found (a backlog of a few batches per worker
    /// takes milliseconds).
    /// </summary>
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromSeconds(5);

    private readonly int _workers;
    private readonly PacketPipeline[] _pipelines;
    private readonly DecoderSettings _decoder;
    private readonly BatchQueue[] _work;
    private readonly BatchQueue[] _free;
    private readonly FrameBatch?[] _current;
    private readonly Thread[] _threads;
    /// <summary>Each worker's failure, written once by that worker.</summary>
    private readonly Exception?[] _failures;
    private volatile bool _anyFailed;
    /// <summary>The failure already thrown on the capture thread (Finish does not throw it again).</summary>
    private Exception? _reported;
    private bool _finished;
    private readonly LockedSink _shared;
    private readonly ServerPostureTracker _postures;
    /// <summary>The capture clock (capture thread only): drives the periodic server reports.</summary>
    private long _clockNs = long.MinValue;

    public ParallelLiveAnalysis(AnalysisOptions options, ReassemblyLimits limits, IEventSink sink, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 2);
        _workers = workers;
        _decoder = new DecoderSettings(options);
        _postures = new ServerPostureTracker(sink, options.MaxServers, options.ServerReportInterval);
        var shared = _shared = new LockedSink(_postures);
        var shardLimits = WorkerShare.Of(limits, workers);
        var shardOptions = WorkerShare.Of(options, workers);
        _pipelines = new PacketPipeline[workers];
        _work = new BatchQueue[workers];
        _free = new BatchQueue[workers];
        _current = new FrameBatch?[workers];
        _threads = new Thread[workers];
        _failures = new Exception?[workers];
        for (int i = 0; i < workers; i++)
        {
            _pipelines[i] = PacketPipeline.ForShard(shardOptions, shardLimits, shared, new FlowShard(i, workers), fedEveryFrame: false);
            _work[i] = new BatchQueue(BatchesPerWorker);
            _free[i] = new BatchQueue(BatchesPerWorker);
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

    public (int Tracked, long Evicted) ServerInventory => (_postures.Servers.Count, _postures.Servers.Evicted);

    public void OnFrame(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
        ThrowIfWorkerFailed();
        MoveClock(timestampNs);
        var result = FrameDecoder.Decode(_decoder, link, frame, timestampNs, out _, out var segment, out _, out _);
        if (result == DecodeResult.Fragment)
        {
            // A later fragment carries no ports, so its connection cannot be told before the datagram
            // is whole: every worker gets every fragment and keeps what turns out to be its own.
            for (int i = 0; i < _workers; i++) Enqueue(i, link, frame, wireLength, timestampNs);
            return;
        }
        Enqueue(result == DecodeResult.Tcp ? FlowShard.IndexOf(segment, _workers) : 0, link, frame, wireLength, timestampNs);
    }

    private void Enqueue(int owner, LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
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
        MoveClock(timestampNs);
        for (int i = 0; i < _workers; i++)
        {
            var batch = _current[i] ??= _free[i].Take();
            batch.TickNs = timestampNs;
            Send(i);
        }
    }

    /// <summary>
    /// Ends every worker's connections (pending logins settled, outcome unknown) and waits for all
    /// workers, even when one has failed: the healthy ones still settle theirs. Then throws what
    /// went wrong that was not reported yet (a worker failing at the end, a worker that did not
    /// finish in time).
    /// </summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        long deadline = Stopwatch.GetTimestamp() + (long)(FinishTimeout.TotalSeconds * Stopwatch.Frequency);
        for (int i = 0; i < _workers; i++)
        {
            var batch = _current[i] ?? TakeFree(i, deadline);
            if (batch is null) continue; // stuck: reported below
            batch.EndOfCapture = true;
            _current[i] = batch;
            Send(i);
        }
        var stuck = new List<Exception>();
        for (int i = 0; i < _workers; i++)
        {
            if (!_threads[i].Join(Remaining(deadline)))
                stuck.Add(new TimeoutException($"analysis worker {i} of {_workers} did not finish within {FinishTimeout.TotalSeconds:0} s: its connections were not settled"));
        }
        var problems = new List<Exception>();
        for (int i = 0; i < _workers; i++)
        {
            var failure = Volatile.Read(ref _failures[i]);
            if (failure is not null && !ReferenceEquals(failure, _reported)) problems.Add(failure);
        }
        problems.AddRange(stuck);
        if (problems.Count == 1) throw problems[0];
        if (problems.Count > 1) throw new AggregateException("analysis workers failed", problems);
    }

    /// <summary>Every server known, after <see cref="Finish"/> (the workers are done: their events are all in).</summary>
    public void ReportServers() => _shared.Locked((_postures, _clockNs), s => s._postures.Report(s._clockNs));

    /// <summary>
    /// On the capture thread. The report runs under the workers' lock, and only when due: the
    /// per-packet cost is two compares. The report reflects the events the workers have handed in
    /// by then (their order across connections is arrival order, as for every live event).
    /// </summary>
    private void MoveClock(long timestampNs)
    {
        if (timestampNs > _clockNs) _clockNs = timestampNs;
        if (_postures.IsDue(timestampNs)) _shared.Locked((_postures, timestampNs), s => s._postures.Tick(s.timestampNs));
    }

    public void Dispose() => Finish(); // a no-op when already finished; otherwise what it throws must not be lost

    private FrameBatch? TakeFree(int worker, long deadline) =>
        _free[worker].TryTake(Remaining(deadline), out var batch) ? batch : null;

    private static TimeSpan Remaining(long deadline) =>
        TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    private void Send(int worker)
    {
        _work[worker].Add(_current[worker]!);
        _current[worker] = null;
    }

    private void ThrowIfWorkerFailed()
    {
        if (_anyFailed) ThrowFirstFailure();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowFirstFailure()
    {
        for (int i = 0; i < _workers; i++)
        {
            if (Volatile.Read(ref _failures[i]) is not { } e) continue;
            _reported = e;
            throw e;
        }
    }

    private void Work(int index)
    {
        var pipeline = _pipelines[index];
        var fault = index == 0 && TestFault.Armed is { Where: TestFault.Site.AnalysisWorker } armed ? armed : null;
        bool failed = false;
        while (true)
        {
            var batch = _work[index].Take();
            bool end = batch.EndOfCapture;
            if (!failed)
            {
                try
                {
                    fault?.ThrowIfDue();
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
                    // This worker's connections can no longer be trusted: it stops analysing them, but
                    // keeps taking batches so the capture thread never blocks on it. Reported on the
                    // capture thread at its next call.
                    failed = true;
                    Volatile.Write(ref _failures[index], new AggregateException($"analysis worker {index} of {_workers} failed", e));
                    _anyFailed = true;
                }
            }
            batch.Reset();
            _free[index].Add(batch);
            if (end) return;
        }
    }
}
