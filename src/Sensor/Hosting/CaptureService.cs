using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Sensor.Capture;
using Sensor.Capture.Live;
using Sensor.Core.Guessing;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;
using Serilog;

namespace Sensor.Hosting;

/// <summary>
/// The live service: one capture thread feeds the same pipeline as `sensor read` (or, with several
/// analysis workers, hands each connection's frames to its worker). An interface that is missing,
/// down or gone is waited for and reopened with backoff. A failure reopening cannot cure (a failing
/// analysis worker, a bug on the capture thread) stops the service with exit code 5 so that the
/// service manager restarts it: health stops with the capture, a dead capture never looks alive.
/// Either way the shutdown settles logins still waiting (outcome unknown) and flushes the event log
/// and metrics, each step on its own so one failing does not skip the others.
/// </summary>
public sealed class CaptureService(
    LiveCaptureSource source, IFrameAnalysis pipeline, IReadOnlyList<EventWriter> events, ILogger log, TimeSpan healthInterval,
    InfluxMetricsWriter? metrics = null, LineProtocolPoints? points = null, TimeSpan? metricsInterval = null,
    PasswordGuessingDetector? guessing = null)
    : BackgroundService
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    /// <summary>
    /// An absent interface is looked for again at least this often: the look-up is a walk of the
    /// interface list, cheap, and a SPAN NIC that appears late should be captured on within seconds.
    /// </summary>
    private static readonly TimeSpan MaxBackoffWhileAbsent = TimeSpan.FromSeconds(5);

    private enum State { Starting, WaitingForInterface, Capturing, Reopening, Stopped, Failed }

    // The state and its transitions (Enter, Fail): health reads it under the same lock, so no health
    // point is made from a capture that has already died.
    private readonly Lock _stateLock = new();
    private State _state = State.Starting;
    private DateTime _stateSince = DateTime.UtcNow;
    private string _stateReason = "starting";
    private Exception? _failure;
    private bool _eventLogFailed;
    private bool _everOpened = source.IsOpen;
    private IHostApplicationLifetime? _lifetime;
    private volatile int _flows;

    public CaptureHealth Health => CaptureHealth.From(source.Statistics, pipeline.Counters, _flows, events[0].Written, events.Sum(e => e.Lost));

    /// <summary>What the run ends with, once the host has stopped: 5 when the capture failed, 3 when events were lost or the event log could not be flushed, else 0.</summary>
    public int ExitCode => _failure is not null ? ExitCodes.CaptureFailed : _eventLogFailed ? ExitCodes.OutputFailed : ExitCodes.Ok;

    /// <summary>Lets a capture failure stop the application; the host that owns the lifetime is built after this service.</summary>
    public CaptureService StopsApplication(IHostApplicationLifetime lifetime)
    {
        _lifetime = lifetime;
        return this;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (TestFault.Setting is { } fault)
            log.Warning("{Variable}={Value} is set: a test fault will be injected ({Armed}); never set it outside tests",
                TestFault.Variable, fault, TestFault.Armed is null ? "value not understood, ignored" : "armed");
        using var healthStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var health = ReportHealth(healthStop.Token);
        var healthPoints = WriteHealthPoints(healthStop.Token);
        try
        {
            await Task.Factory.StartNew(() => CaptureLoop(stoppingToken), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            // No health after the capture ended, and none racing the metrics flush below.
            healthStop.Cancel();
            try
            {
                await Task.WhenAll(health, healthPoints);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.Error(e, "health reporting failed: {Message}", e.Message);
            }
            if (_failure is not null) _lifetime?.StopApplication(); // the host waits for the flush below
            await Flush();
        }
        // Without a lifetime the host's own policy for a failed background service stops it.
        if (_failure is not null && _lifetime is null) throw new InvalidOperationException("capture failed", _failure);
    }

    private void CaptureLoop(CancellationToken stop)
    {
        long lastStats = 0;
        void OnIdle(long nowNs)
        {
            pipeline.AdvanceTime(nowNs);
            _flows = pipeline.FlowCount;
            if (nowNs - lastStats >= 1_000_000_000L)
            {
                lastStats = nowNs;
                source.RefreshStatistics(); // on this thread: libpcap handles are not thread-safe
            }
        }

        try
        {
            var backoff = FirstBackoff;
            while (!stop.IsCancellationRequested)
            {
                if (!source.IsOpen && !OpenWhenThere(stop, ref backoff)) break;
                Enter(State.Capturing, $"capturing on {source.Description}");
                long started = Stopwatch.GetTimestamp();
                try
                {
                    source.Run(pipeline.OnFrame, OnIdle, stop);
                }
                catch (CaptureDeviceException e) when (e.Retryable)
                {
                    source.Close();
                    Enter(State.Reopening, e.Message);
                    log.Warning("{Message}; retrying", e.Message);
                    // A capture that fails again soon after reopening keeps its backoff: no tight loop of reopen and fail.
                    if (Stopwatch.GetElapsedTime(started) >= MaxBackoff) backoff = FirstBackoff;
                }
            }
        }
        catch (Exception e) when (!(e is OperationCanceledException && stop.IsCancellationRequested))
        {
            Fail(e);
        }
        finally
        {
            // On this thread: libpcap handles are not thread-safe, and the workers are fed from here.
            Step("closing the capture", source.Close);
            if (!Step("settling the logins still waiting for an answer", pipeline.Finish, out var settleFailure) && _failure is null)
                Fail(settleFailure!); // logins may be lost: the run did not end well
            Step("reporting the server inventory", pipeline.ReportServers);
            _flows = 0;
            Enter(State.Stopped, "stopped");
        }
    }

    /// <summary>
    /// Opens the interface once it is there. At start (it was not there when the service began) the
    /// first look is immediate, and one line says the sensor waits; after a loss it waits first. False
    /// when stopped while waiting; what waiting cannot cure (permission, filter, link type) is thrown.
    /// </summary>
    private bool OpenWhenThere(CancellationToken stop, ref TimeSpan backoff)
    {
        bool resuming = _everOpened, first = true;
        while (true)
        {
            if (resuming || !first)
            {
                if (stop.WaitHandle.WaitOne(backoff)) return false;
            }
            try
            {
                source.Open();
            }
            catch (CaptureDeviceException e) when (e.Retryable)
            {
                if (!resuming && first)
                {
                    Enter(State.WaitingForInterface, $"waiting for interface {source.InterfaceName}: {e.Message}");
                    log.Warning("{Message}; waiting for it (looking again with backoff: every 5 s at most while it is absent)", e.Message);
                }
                else
                {
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2,
                        (e.Problem == CaptureProblem.NoSuchInterface ? MaxBackoffWhileAbsent : MaxBackoff).Ticks));
                    log.Debug("{Message}; next try in {Seconds}s", e.Message, backoff.TotalSeconds);
                }
                first = false;
                continue;
            }
            if (resuming)
            {
                source.Statistics.Reopens++;
                log.Information("capture resumed on {Interface}", source.InterfaceName);
            }
            else
            {
                log.Information("interface {Interface} is there: capture started", source.InterfaceName);
            }
            _everOpened = true;
            return true;
        }
    }

    private void Enter(State state, string reason)
    {
        lock (_stateLock)
        {
            if (_state == State.Failed) return; // final: the reason it died stays
            _state = state;
            _stateSince = DateTime.UtcNow;
            _stateReason = reason;
        }
        SystemdService.Status(reason);
    }

    private void Fail(Exception e)
    {
        lock (_stateLock)
        {
            _failure ??= e;
            _state = State.Failed;
            _stateSince = DateTime.UtcNow;
            _stateReason = e.Message;
        }
        log.Fatal(e, "capture failed: {Message}; the sensor stops with exit code {ExitCode} so that its service manager restarts it",
            e.Message, ExitCodes.CaptureFailed);
        SystemdService.Status("capture failed: " + e.Message);
    }

    /// <summary>One shutdown step, guarded: its failure is logged and does not skip the steps after it.</summary>
    private bool Step(string what, Action step, out Exception? failure)
    {
        try
        {
            step();
            failure = null;
            return true;
        }
        catch (Exception e)
        {
            log.Error(e, "shutdown: {Step} failed: {Message}", what, e.Message);
            failure = e;
            return false;
        }
    }

    private bool Step(string what, Action step) => Step(what, step, out _);

    /// <summary>After the capture thread has settled everything: the summary, then the event log and metrics flushed.</summary>
    private async Task Flush()
    {
        Step("writing the summary", () => log.Information("capture stopped; {Events} events written, {Lost} lost; {Health}",
            events[0].Written, events.Sum(e => e.Lost), Health));
        foreach (var writer in events)
            if (!Step("flushing the event log", writer.Dispose)) _eventLogFailed = true;
        if (events.Sum(e => e.Lost) is var lost and > 0)
        {
            log.Error("{Lost} events could not be written (the cause is logged above): the run ends with exit code {ExitCode}", lost, ExitCodes.OutputFailed);
            _eventLogFailed = true;
        }
        if (metrics is null) return;
        try
        {
            await metrics.DisposeAsync(); // flush, or spool for the next start
        }
        catch (Exception e)
        {
            log.Error(e, "shutdown: flushing metrics failed: {Message}", e.Message);
        }
        var m = metrics.Counters;
        log.Information("metrics: {Written} points written to {Target}, {Pending} waiting in the spool for the next start, {Rejected} refused by the server, {Dropped} dropped, {Failures} failed writes",
            m.PointsWritten, metrics.TargetUrl, m.PointsPending, m.PointsRejected, m.PointsDropped, m.WriteFailures);
    }

    /// <summary>
    /// A sensor_health point every interval (default 10 s) while metrics are on, and only while the
    /// capture runs: a sensor waiting for its interface, reopening it, or dead writes none, so the
    /// "sensor silent" alert sees it as silent.
    /// </summary>
    private async Task WriteHealthPoints(CancellationToken stop)
    {
        if (metrics is null || points is null) return;
        using var timer = new PeriodicTimer(metricsInterval ?? TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                lock (_stateLock)
                {
                    if (_state != State.Capturing) continue;
                    var h = Health;
                    var m = metrics.Counters;
                    var inventory = pipeline.ServerInventory;
                    long now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
                    metrics.Enqueue(points.Health(now, new Dictionary<string, long>
                    {
                        ["packets"] = h.PacketsReceived,
                        ["bytes"] = h.Bytes,
                        ["kernel_drops"] = h.DroppedByKernel,
                        ["interface_drops"] = h.DroppedByInterface,
                        ["flows"] = h.Flows,
                        ["buffered_bytes"] = h.BytesBuffered,
                        ["gaps"] = h.Gaps,
                        ["analyzer_faults"] = h.AnalyzerFaults,
                        ["fragments_lost"] = h.FragmentsLost,
                        ["encapsulations_skipped"] = h.EncapsulationsSkipped,
                        ["events_written"] = h.EventsWritten,
                        ["events_lost"] = h.EventsLost,
                        ["points_written"] = m.PointsWritten,
                        ["points_spooled"] = m.PointsSpooled,
                        ["points_pending"] = m.PointsPending,
                        ["points_rejected"] = m.PointsRejected,
                        ["points_dropped"] = m.PointsDropped,
                        ["write_failures"] = m.WriteFailures,
                        ["guessing_clients"] = guessing?.ClientsTracked ?? 0,
                        ["guessing_usernames"] = guessing?.UsernamesTracked ?? 0,
                        ["guessing_evicted"] = guessing?.TracksEvicted ?? 0,
                        ["servers_tracked"] = inventory.Tracked,
                        ["servers_evicted"] = inventory.Evicted,
                    }));
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The health line every interval; while not capturing it says so and why, never the stale counters.</summary>
    private async Task ReportHealth(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(healthInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                // Under the lock: a line saying "packets ..." must not follow the line saying the capture died.
                lock (_stateLock)
                {
                    if (_state is State.WaitingForInterface or State.Reopening)
                    {
                        log.Warning("health: not capturing for {Seconds:0} s: {Reason}; events {Events} (lost {EventsLost})",
                            (DateTime.UtcNow - _stateSince).TotalSeconds, _stateReason, events[0].Written, events.Sum(e => e.Lost));
                    }
                    if (_state != State.Capturing) continue;
                    var h = Health;
                    // The capture named last (with fanout, each member's counters are its share of the link).
                    log.Information(
                        "health: packets {Packets} (kernel drops {KernelDrops}, interface drops {IfDrops}), flows {Flows}, buffered {Buffered} B, gaps {Gaps}, events {Events} (lost {EventsLost}), " +
                        "guessing detector: {GuessingClients} clients and {GuessingUsernames} usernames tracked, {GuessingEvicted} evicted at the caps; capturing on {Capture}",
                        h.PacketsReceived, h.DroppedByKernel, h.DroppedByInterface, h.Flows, h.BytesBuffered, h.Gaps, h.EventsWritten, h.EventsLost,
                        guessing?.ClientsTracked ?? 0, guessing?.UsernamesTracked ?? 0, guessing?.TracksEvicted ?? 0, source.Description);
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
