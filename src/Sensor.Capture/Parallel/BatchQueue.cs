namespace Sensor.Capture.Parallel;

/// <summary>
/// The hand-over of frame batches between the capture thread and one analysis worker: a queue that,
/// when empty, puts the taker to sleep in the kernel at once. <c>BlockingCollection</c> (through
/// <c>SemaphoreSlim</c>) first spins with <c>sched_yield</c>; with a batch every few milliseconds and
/// three threads on a busy core that spinning was most of a worker's time: perf showed
/// <c>finish_task_switch</c> and <c>sched_yield</c> at a quarter of the sensor's samples and each worker
/// made 12,000 involuntary context switches a second at 100,000 packets/s (bench/live-rate.sh, mail mix).
/// A batch handed over is worth a futex wake; a worker that found nothing has nothing better to do
/// than sleep. A fixed set of batches circulates, so the queue never grows past it and never allocates.
/// </summary>
internal sealed class BatchQueue
{
    private readonly Queue<FrameBatch> _items;
    private readonly object _gate = new();
    private int _sleepers;

    public BatchQueue(int capacity) => _items = new Queue<FrameBatch>(capacity);

    public void Add(FrameBatch batch)
    {
        lock (_gate)
        {
            _items.Enqueue(batch);
            if (_sleepers > 0) Monitor.Pulse(_gate);
        }
    }

    /// <summary>The next batch, waiting as long as it takes.</summary>
    public FrameBatch Take()
    {
        TryTake(Timeout.InfiniteTimeSpan, out var batch);
        return batch!;
    }

    /// <summary>The next batch, or false when none came within <paramref name="timeout"/>.</summary>
    public bool TryTake(TimeSpan timeout, out FrameBatch? batch)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (_items.Count == 0)
            {
                int wait = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
                if (wait == 0)
                {
                    batch = null;
                    return false;
                }
                _sleepers++;
                try
                {
                    Monitor.Wait(_gate, wait);
                }
                finally
                {
                    _sleepers--;
                }
            }
            batch = _items.Dequeue();
            return true;
        }
    }
}
