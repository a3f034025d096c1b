using System.Threading.Channels;
using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Core.Exceptions;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Writes points to InfluxDB (v2 write API through InfluxDB.Client) from a background task. The
/// capture path only enqueues into a bounded in-memory queue and never waits on the network; when the
/// queue is full the points go straight to the disk spool. When InfluxDB is down or slow, batches go
/// to the spool and are replayed in order, oldest first, before anything newer once it answers again.
/// Rejected points (4xx, e.g. a field type conflict) are logged and set aside in rejected.lp, never
/// retried forever.
/// </summary>
public sealed class InfluxMetricsWriter : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly InfluxSettings _settings;
    private readonly InfluxDBClient _client;
    private readonly Channel<string> _queue;
    private readonly PointSpool _spool;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _rejectedPath;

    public InfluxMetricsWriter(InfluxSettings settings)
    {
        _settings = settings;
        Counters = new MetricCounters();
        _spool = new PointSpool(settings.SpoolDirectory, settings.MaxSpoolBytes, Counters);
        _rejectedPath = Path.Combine(settings.SpoolDirectory, "rejected.lp");
        _client = new InfluxDBClient(new InfluxDBClientOptions(settings.Url)
        {
            Token = string.IsNullOrEmpty(settings.Token) ? "-" : settings.Token,
            Org = settings.Org,
            Bucket = settings.Bucket,
            Timeout = TimeSpan.FromSeconds(10),
        });
        _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of blocking; see Enqueue
        });
        _loop = Task.Run(RunAsync);
    }

    public MetricCounters Counters { get; }

    /// <summary>Never blocks: a full queue sends the point to the disk spool instead.</summary>
    public void Enqueue(string line)
    {
        Counters.PointsQueued++;
        if (!_queue.Writer.TryWrite(line)) _spool.Append([line]);
    }

    private async Task RunAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        var batch = new List<string>(_settings.BatchSize);
        bool draining = false;
        while (true)
        {
            // What the previous run or an outage left on disk goes first, so points arrive in order.
            if (!_spool.IsEmpty)
            {
                var oldest = _spool.Oldest();
                if (oldest is { } seg && await TryWriteAsync(seg.Lines) is var ok)
                {
                    if (ok == WriteResult.Written || ok == WriteResult.Rejected)
                    {
                        _spool.Remove(seg.Segment);
                        backoff = TimeSpan.FromSeconds(1);
                        continue;
                    }
                    // Shutting down with InfluxDB unreachable: the spool keeps them (and the queue's
                    // rest is added to it in DisposeAsync).
                    if (draining || _stop.IsCancellationRequested) return;
                    await Delay(backoff);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    continue;
                }
            }

            batch.Clear();
            if (!draining)
            {
                try
                {
                    if (!await _queue.Reader.WaitToReadAsync(_stop.Token)) draining = true;
                }
                catch (OperationCanceledException) { draining = true; }
                if (!draining)
                {
                    // Gather a batch: what is there now, and up to 200 ms for more.
                    using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    linger.CancelAfter(TimeSpan.FromMilliseconds(200));
                    try
                    {
                        while (batch.Count < _settings.BatchSize && await _queue.Reader.WaitToReadAsync(linger.Token))
                            while (batch.Count < _settings.BatchSize && _queue.Reader.TryRead(out var l)) batch.Add(l);
                    }
                    catch (OperationCanceledException) { }
                }
            }
            while (batch.Count < _settings.BatchSize && _queue.Reader.TryRead(out var line)) batch.Add(line);
            if (batch.Count == 0)
            {
                if (draining) return;
                continue;
            }

            var result = await TryWriteAsync(batch);
            if (result == WriteResult.Failed)
            {
                _spool.Append(batch);
                if (!draining)
                {
                    await Delay(backoff);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
            else backoff = TimeSpan.FromSeconds(1);
        }
    }

    private enum WriteResult { Written, Rejected, Failed }

    private async Task<WriteResult> TryWriteAsync(IReadOnlyCollection<string> lines)
    {
        try
        {
            var api = _client.GetWriteApiAsync();
            await api.WriteRecordsAsync(lines.ToList(), WritePrecision.Ns, _settings.Bucket, _settings.Org);
            Counters.PointsWritten += lines.Count;
            return WriteResult.Written;
        }
        catch (HttpException e) when (e.Status is >= 400 and < 500 and not 408 and not 429)
        {
            Counters.PointsRejected += lines.Count;
            Log.Error("InfluxDB rejected {Count} points (HTTP {Status}): {Message}; set aside in {Path}",
                lines.Count, e.Status, e.Message, _rejectedPath);
            try { System.IO.File.AppendAllLines(_rejectedPath, lines); } catch (IOException) { }
            return WriteResult.Rejected;
        }
        catch (Exception e) when (e is HttpException or HttpRequestException or TaskCanceledException or IOException or InfluxException)
        {
            Counters.WriteFailures++;
            Log.Warning("InfluxDB write of {Count} points failed: {Message}; spooling", lines.Count, e.Message);
            return WriteResult.Failed;
        }
    }

    private async Task Delay(TimeSpan t)
    {
        try { await Task.Delay(t, _stop.Token); } catch (OperationCanceledException) { }
    }

    /// <summary>Writes what is queued (or spools it, if InfluxDB does not answer) and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { Log.Warning("metrics writer did not finish in time; unsent points stay in the spool"); }
        // Anything still in memory goes to disk for the next run.
        var left = new List<string>();
        while (_queue.Reader.TryRead(out var l)) left.Add(l);
        _spool.Append(left);
        _client.Dispose();
    }
}
