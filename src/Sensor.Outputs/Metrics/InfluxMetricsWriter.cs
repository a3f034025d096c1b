using System.Globalization;
using System.Threading.Channels;
using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Writes points to InfluxDB (1.x through /write, 2.x and VictoriaMetrics through the v2 API; which
/// one is asked of the server's /ping) from a background task. The capture path only enqueues into a
/// bounded in-memory queue; it touches the disk only when that queue is full.
/// <para>
/// Two modes. Direct: batches from the queue go to the server. Replay: while the spool holds points,
/// they are older than anything queued, so the queue is drained to the spool's tail (keeping the
/// order, and the queue empty for the capture path) and the spool is sent oldest segment first,
/// with a backoff between failed attempts.
/// </para>
/// <para>
/// Every point queued ends in exactly one of: written (the server said so), rejected (the server
/// refused it as data: 400, 413 for a single point, 422; set aside in rejected.lp), pending in the
/// spool, or dropped (spool full or unusable). A server that is down, slow, or not ready for us
/// (401, 403, 404, 408, 429, 5xx, no answer within <see cref="InfluxSettings.WriteTimeout"/>) never
/// loses a point: they wait in the spool. Each such fault is logged once when it starts or changes.
/// </para>
/// </summary>
public sealed class InfluxMetricsWriter : IAsyncDisposable
{
    private readonly InfluxSettings _settings;
    private readonly InfluxTarget _target;
    private readonly Channel<string> _queue;
    private readonly PointSpool _spool;
    private readonly RejectedPoints _rejected;
    private readonly DeliveryCondition _condition;
    private readonly RetentionWarning _retention;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new(); // DisposeAsync began: no more waiting between attempts
    private readonly CancellationTokenSource _abort = new();    // the shutdown deadline passed: cancel the write in flight
    private readonly HashSet<string> _refusalsLogged = [];
    private readonly List<string> _held = []; // a batch that failed, when there is no spool to keep it
    private readonly Task _loop;
    private IInfluxWriteApi? _api; // null until the server said which (InfluxApi.Auto)
    private InfluxV1WriteApi? _v1;
    private InfluxV2WriteApi? _v2;
    private TimeSpan _backoff;
    private long _retryAt;  // Environment.TickCount64 before which no attempt is made
    private bool _gaveUp;   // stopping, and an attempt failed: everything left goes to the spool
    private int _disposed;

    public InfluxMetricsWriter(InfluxSettings settings)
    {
        _settings = settings;
        _target = new InfluxTarget(settings.Url ?? throw new ArgumentException("no InfluxDB address"), settings.Bucket, settings.Org);
        Counters = new MetricCounters();
        NoteEarlierLayout(settings.SpoolDirectory);
        _spool = new PointSpool(SpoolLocation.ForTarget(settings.SpoolDirectory, _target), settings.MaxSpoolBytes, Counters,
            $"# mail-sensor metrics spool: points for this target, waiting for it to take them (line protocol, oldest first)\n" +
            $"url={_target.Url}\nbucket={_target.Bucket}\norg={_target.Org}\n");
        _rejected = new RejectedPoints(_spool.DirectoryPath, settings.MaxRejectedBytes);
        _condition = new DeliveryCondition(_target, Counters, _spool.Usable);
        _retention = new RetentionWarning(_target);
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = settings.WriteTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan }; // each request has its own deadline (AttemptAsync)
        _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(settings.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of blocking; see Enqueue
        });
        _backoff = settings.RetryBackoff;
        _loop = Task.Run(RunAsync);
    }

    public MetricCounters Counters { get; }

    /// <summary>This target's spool directory, or null when it could not be used.</summary>
    public string? SpoolDirectory => _spool.DirectoryPath;

    /// <summary>The server's address without credentials.</summary>
    public string TargetUrl => _target.Url;

    /// <summary>
    /// Never blocks on the network: a full queue sends the point to the disk spool instead (counted
    /// in <see cref="MetricCounters.PointsQueueFull"/>). That point may then be sent before older ones
    /// still queued, which changes nothing in the database: every point carries its own timestamp.
    /// </summary>
    public void Enqueue(string line)
    {
        Interlocked.Increment(ref Counters.PointsQueued);
        if (_queue.Writer.TryWrite(line)) return;
        if (Volatile.Read(ref _disposed) == 0) Interlocked.Increment(ref Counters.PointsQueueFull);
        _spool.Append([line]);
    }

    private static long Now => Environment.TickCount64;

    private async Task RunAsync()
    {
        var batch = new List<string>(_settings.BatchSize);
        try
        {
            while (true)
            {
                if (!_spool.IsEmpty)
                {
                    // Replay. The spool holds the oldest points: what arrives meanwhile goes after them.
                    DrainQueueToSpool();
                    if (_gaveUp) return;
                    if (!_stopping.IsCancellationRequested && Now < _retryAt)
                    {
                        await WaitForRetryAsync();
                        continue;
                    }
                    if (await ReplayOldestAsync()) Succeeded();
                    else Failed();
                    continue;
                }
                if (_gaveUp)
                {
                    // Only without a usable spool: counted as dropped there.
                    _spool.Append(_held);
                    _held.Clear();
                    DrainQueueToSpool();
                    return;
                }
                if (!_stopping.IsCancellationRequested && Now < _retryAt)
                {
                    await WaitForRetryAsync();
                    continue;
                }
                batch.Clear();
                if (_held.Count > 0)
                {
                    batch.AddRange(_held);
                    _held.Clear();
                }
                else if (!await GatherAsync(batch)) return; // stopped, and nothing left
                if (batch.Count == 0) continue;
                var unsent = await SendAsync(batch);
                if (unsent.Count == 0)
                {
                    Succeeded();
                    continue;
                }
                // Without a spool the batch waits in memory (one batch; the queue holds the rest).
                if (_spool.Usable) _spool.Append(unsent);
                else _held.AddRange(unsent);
                Failed();
            }
        }
        catch (Exception e)
        {
            Log.Error(e, "metrics writer stopped: {Message}; queued points go to the spool", InfluxAnswer.OneLine(e.Message));
            _spool.Append(_held);
            _held.Clear();
            DrainQueueToSpool();
        }
    }

    private void Succeeded()
    {
        _backoff = _settings.RetryBackoff;
        _retryAt = 0;
    }

    private void Failed()
    {
        _retryAt = Now + (long)_backoff.TotalMilliseconds;
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _settings.MaxRetryBackoff.Ticks));
        // Shutting down with the server not taking points: no more attempts, the spool keeps them.
        if (_stopping.IsCancellationRequested) _gaveUp = true;
    }

    /// <summary>Sends the oldest spool segment; true when none is left undelivered.</summary>
    private async Task<bool> ReplayOldestAsync()
    {
        var segment = _spool.Oldest();
        if (segment is null) return true;
        var unsent = segment.Lines.Count == 0 ? [] : await SendAsync(segment.Lines);
        if (unsent.Count == 0)
        {
            // Deleted right after the server took it; a crash just before this replays it once more
            // at the next start, harmless: same series and timestamp is the same point.
            _spool.Remove(segment);
            return true;
        }
        if (unsent.Count < segment.Lines.Count) _spool.Replace(segment, unsent);
        return false;
    }

    /// <summary>Gathers a batch: what is queued now and, for up to the linger time, what follows. False: stopped and empty.</summary>
    private async Task<bool> GatherAsync(List<string> batch)
    {
        if (!await _queue.Reader.WaitToReadAsync()) return false; // DisposeAsync completes the queue
        long until = Now + (long)_settings.BatchLinger.TotalMilliseconds;
        while (batch.Count < _settings.BatchSize)
        {
            while (batch.Count < _settings.BatchSize && _queue.Reader.TryRead(out var line)) batch.Add(line);
            long left = until - Now;
            if (batch.Count >= _settings.BatchSize || _stopping.IsCancellationRequested || left <= 0) break;
            using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            linger.CancelAfter(TimeSpan.FromMilliseconds(left));
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(linger.Token)) break;
            }
            catch (OperationCanceledException) { break; }
        }
        return true;
    }

    /// <summary>Waits out the backoff; with a spool, moves what is queued meanwhile to its tail.</summary>
    private async Task WaitForRetryAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            long left = _retryAt - Now;
            if (left <= 0) return;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            wait.CancelAfter(TimeSpan.FromMilliseconds(left));
            try
            {
                if (_spool.Usable && await _queue.Reader.WaitToReadAsync(wait.Token))
                {
                    // A busy capture: let points gather a little, for fewer and larger appends.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, _settings.BatchLinger.TotalMilliseconds)), wait.Token);
                }
                else await Task.Delay(TimeSpan.FromMilliseconds(left), wait.Token);
            }
            catch (OperationCanceledException) { }
            // Without a spool the queue is where points wait (bounded; past it Enqueue counts them dropped).
            if (_spool.Usable) DrainQueueToSpool();
        }
    }

    private void DrainQueueToSpool()
    {
        var chunk = new List<string>();
        while (_queue.Reader.TryRead(out var line))
        {
            chunk.Add(line);
            if (chunk.Count < _settings.BatchSize) continue;
            _spool.Append(chunk);
            chunk.Clear();
        }
        _spool.Append(chunk);
    }

    /// <summary>Writes <paramref name="lines"/>; returns those not delivered (to spool), empty when the server answered for all.</summary>
    private async Task<IReadOnlyList<string>> SendAsync(IReadOnlyList<string> lines)
    {
        if (_api is null && !await DetectAsync()) return lines;
        var api = _api!;
        var outcome = await AttemptAsync(api, lines);
        switch (outcome.Kind)
        {
            case WriteOutcomeKind.Accepted:
                Interlocked.Add(ref Counters.PointsWritten, lines.Count);
                _condition.Delivered(!_spool.IsEmpty);
                _retention.Check(lines);
                return [];
            case WriteOutcomeKind.Refused:
                Refuse(lines, outcome, api);
                _condition.Delivered(!_spool.IsEmpty);
                return [];
            case WriteOutcomeKind.TooLarge when lines.Count > 1:
                // Halves until they pass; a single point too large is refused for good.
                int half = lines.Count / 2;
                var second = lines.Skip(half).ToList();
                var left = await SendAsync(lines.Take(half).ToList());
                return left.Count > 0 ? [.. left, .. second] : await SendAsync(second);
            case WriteOutcomeKind.TooLarge:
                Refuse(lines, outcome with { Refused = lines.Count }, api);
                return [];
            case WriteOutcomeKind.Cancelled:
                _condition.Failed(CutShortByShutdown(), api);
                return lines;
            default:
                _condition.Failed(outcome, api);
                // A 404 may mean another server now answers there (InfluxDB 2 replaced by 1.x, say):
                // ask /ping again before the next attempt.
                if (outcome.Status == 404 && _settings.Api == InfluxApi.Auto) _api = null;
                return lines;
        }
    }

    /// <summary>One request with its deadline: the write timeout, or the shutdown deadline if sooner.</summary>
    private async Task<WriteOutcome> AttemptAsync(IInfluxWriteApi api, IReadOnlyList<string> lines)
    {
        var endpoint = api is InfluxV1WriteApi ? "/write" : "/api/v2/write";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        deadline.CancelAfter(_settings.WriteTimeout);
        try
        {
            // WaitAsync: the deadline holds even if a client library does not watch the token.
            var outcome = await api.WriteAsync(lines, deadline.Token).WaitAsync(deadline.Token);
            return outcome.Kind == WriteOutcomeKind.NotDelivered && deadline.IsCancellationRequested ? Unanswered(endpoint) : outcome;
        }
        catch (Exception) when (deadline.IsCancellationRequested)
        {
            return Unanswered(endpoint);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else from a client library: the points were not delivered, so they wait.
            return WriteOutcome.NoAnswer(TransportFailure.Describe(e), endpoint);
        }
    }

    /// <summary>No answer before the deadline: a timeout, or the shutdown cancelling the request.</summary>
    private WriteOutcome Unanswered(string endpoint) =>
        _abort.IsCancellationRequested
            ? WriteOutcome.Cancelled
            : WriteOutcome.NoAnswer(string.Create(CultureInfo.InvariantCulture,
                $"did not answer within {_settings.WriteTimeout.TotalSeconds:0.###} s"), endpoint);

    private WriteOutcome CutShortByShutdown() =>
        WriteOutcome.NoAnswer(string.Create(CultureInfo.InvariantCulture,
            $"had not answered when the sensor stopped ({_settings.ShutdownTimeout.TotalSeconds:0.###} s after it was asked to)"), "");

    /// <summary>Picks the write API: the configured one, or the one /ping says. False: no answer, try later.</summary>
    private async Task<bool> DetectAsync()
    {
        var api = _settings.Api;
        if (api == InfluxApi.Auto)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            deadline.CancelAfter(_settings.WriteTimeout);
            InfluxServerProbe.Identity? identity;
            WriteOutcome? failure;
            try
            {
                (identity, failure) = await InfluxServerProbe.ProbeAsync(_http, _target, deadline.Token).WaitAsync(deadline.Token);
            }
            catch (Exception) when (deadline.IsCancellationRequested)
            {
                (identity, failure) = (null, Unanswered("/ping"));
            }
            if (identity is null)
            {
                // Not guessed: the server is asked again at the next attempt, the points wait meanwhile.
                _condition.Failed(failure!.Kind == WriteOutcomeKind.Cancelled ? CutShortByShutdown() : failure, null);
                return false;
            }
            api = identity.Api;
            _retention.ServerRefusesOldPoints = identity.Version is not null;
            Counters.Server = identity.Version is { } v ? $"InfluxDB {v}" : "no X-Influxdb-Version on /ping";
        }
        else Counters.Server = "API set by configuration";
        _api = api == InfluxApi.V1
            ? _v1 ??= new InfluxV1WriteApi(_http, _target, _settings.Token)
            : _v2 ??= new InfluxV2WriteApi(_target, _settings.Token, _settings.WriteTimeout);
        Counters.Server += ", " + _api.Name;
        Log.Debug("InfluxDB at {Url}: {Server}", _target.Url, Counters.Server);
        return true;
    }

    private void Refuse(IReadOnlyList<string> lines, WriteOutcome outcome, IInfluxWriteApi api)
    {
        int refused = Math.Clamp(outcome.Refused, 0, lines.Count);
        Interlocked.Add(ref Counters.PointsRejected, refused);
        Interlocked.Add(ref Counters.PointsWritten, lines.Count - refused);
        var status = InfluxAnswer.StatusText(outcome.Status);
        // A partial write names how many, not which: the whole batch is kept, saying so.
        var why = refused == lines.Count
            ? $"refused by {_target.Url}: {status}: {outcome.Message}"
            : $"{_target.Url} refused {refused} of the {lines.Count} points below and kept the others (it does not say which): {status}: {outcome.Message}";
        bool kept = _rejected.SetAside(lines, why);

        bool retention = InfluxAnswer.IsRetention(outcome.Message);
        var kind = retention ? "retention"
            : outcome.Message.Contains("field type conflict", StringComparison.OrdinalIgnoreCase) ? "type"
            : outcome.Message.Contains("unable to parse", StringComparison.OrdinalIgnoreCase) ? "parse"
            : "";
        if (!_refusalsLogged.Add($"{outcome.Status} {kind}")) return; // once per kind of refusal; the rest are counted
        var where = kept ? $"set aside in {_rejected.FilePath} (later refusals of this kind are only counted)" : "not kept (counted as rejected)";
        if (retention)
            Log.Warning("InfluxDB at {Url} refused {Count} points as outside the retention of {Store} \"{Bucket}\" ({Status}: {Message}); {Where}",
                _target.Url, refused, api is InfluxV1WriteApi ? "database" : "bucket", _target.Bucket, status, outcome.Message, where);
        else
            Log.Error("InfluxDB at {Url} refused {Count} points ({Status}: {Message}); {Where}", _target.Url, refused, status, outcome.Message, where);
    }

    /// <summary>
    /// Earlier versions spooled straight into the base directory, for whatever server was configured
    /// then. Those points are not sent to this one on a guess; the log says where they are.
    /// </summary>
    private void NoteEarlierLayout(string baseDirectory)
    {
        try
        {
            if (!Directory.Exists(baseDirectory)) return;
            int files = Directory.GetFiles(baseDirectory, "spool-*.lp").Length;
            if (files == 0) return;
            Log.Warning("metrics spool {Base} holds {Files} segment file(s) from an earlier version, for a server it did not record: " +
                        "they are not sent; to send them to {Url}, move them into {Directory}",
                baseDirectory, files, _target.Url, SpoolLocation.ForTarget(baseDirectory, _target));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Delivers what is queued, for at most <see cref="InfluxSettings.ShutdownTimeout"/>; then the write
    /// in flight is cancelled, and what was not delivered goes to the spool for the next start.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        _abort.CancelAfter(_settings.ShutdownTimeout);
        try
        {
            await _loop.WaitAsync(_settings.ShutdownTimeout + TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            Log.Warning("metrics writer did not stop within {Seconds} s; what it still held is spooled", _settings.ShutdownTimeout.TotalSeconds + 5);
        }
        DrainQueueToSpool(); // normally nothing is left
        _spool.Dispose();
        _v1?.Dispose();
        _v2?.Dispose();
        _http.Dispose();
    }
}
