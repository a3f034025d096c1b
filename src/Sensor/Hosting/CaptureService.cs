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
/// analysis workers, hands each connection's frames to its worker). A capture error
/// (interface down or gone) is logged and retried with backoff; shutdown stops the capture, settles
/// logins still waiting (outcome unknown) and flushes the event log.
/// </summary>
public sealed class CaptureService(
    LiveCaptureSource source, IFrameAnalysis pipeline, IReadOnlyList<EventWriter> events, ILogger log, TimeSpan healthInterval,
    InfluxMetricsWriter? metrics = null, LineProtocolPoints? points = null, TimeSpan? metricsInterval = null,
    PasswordGuessingDetector? guessing = null)
    : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private volatile int _flows;

    public CaptureHealth Health => CaptureHealth.From(source.Statistics, pipeline.Counters, _flows, events[0].Written, events.Sum(e => e.Lost));

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var capture = Task.Factory.StartNew(() => CaptureLoop(stoppingToken), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var health = ReportHealth(stoppingToken);
        var healthPoints = WriteHealthPoints(stoppingToken);
        return Task.WhenAll(capture, health, healthPoints);
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
            var backoff = TimeSpan.FromSeconds(1);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    source.Run(pipeline.OnFrame, OnIdle, stop);
                }
                catch (CaptureDeviceException e) when (e.Retryable)
                {
                    log.Warning("{Message}; retrying", e.Message);
                    source.Close();
                    while (!stop.IsCancellationRequested)
                    {
                        stop.WaitHandle.WaitOne(backoff);
                        if (stop.IsCancellationRequested) break;
                        try
                        {
                            source.Open();
                            source.Statistics.Reopens++;
                            log.Information("capture resumed on {Interface}", source.InterfaceName);
                            backoff = TimeSpan.FromSeconds(1);
                            break;
                        }
                        catch (CaptureDeviceException again)
                        {
                            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                            log.Debug("{Message}; next try in {Seconds}s", again.Message, backoff.TotalSeconds);
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Error(e, "capture stopped: {Message}", e.Message);
        }
        finally
        {
            source.Close();
            pipeline.Finish(); // logins still waiting for an answer: outcome unknown
            _flows = 0;
            log.Information("capture stopped; {Events} events written, {Lost} lost; {Health}", events[0].Written, events.Sum(e => e.Lost), Health);
            foreach (var writer in events) writer.Dispose();
            if (metrics is not null)
            {
                metrics.DisposeAsync().AsTask().GetAwaiter().GetResult(); // flush, or spool for the next start
                var m = metrics.Counters;
                log.Information("metrics: {Written} points written, {Spooled} spooled, {Rejected} rejected, {Dropped} dropped, {Failures} failed writes",
                    m.PointsWritten, m.PointsSpooled, m.PointsRejected, m.PointsDropped, m.WriteFailures);
            }
        }
    }

    /// <summary>A sensor_health point every interval (default 10 s) while metrics are on.</summary>
    private async Task WriteHealthPoints(CancellationToken stop)
    {
        if (metrics is null || points is null) return;
        using var timer = new PeriodicTimer(metricsInterval ?? TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var h = Health;
                var m = metrics.Counters;
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
                    ["events_written"] = h.EventsWritten,
                    ["events_lost"] = h.EventsLost,
                    ["points_written"] = m.PointsWritten,
                    ["points_spooled"] = m.PointsSpooled,
                    ["points_dropped"] = m.PointsDropped,
                    ["write_failures"] = m.WriteFailures,
                    ["guessing_clients"] = guessing?.ClientsTracked ?? 0,
                    ["guessing_usernames"] = guessing?.UsernamesTracked ?? 0,
                    ["guessing_evicted"] = guessing?.TracksEvicted ?? 0,
                }));
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ReportHealth(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(healthInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var h = Health;
                log.Information(
                    "health: packets {Packets} (kernel drops {KernelDrops}, interface drops {IfDrops}), flows {Flows}, buffered {Buffered} B, gaps {Gaps}, events {Events} (lost {EventsLost}), " +
                    "guessing detector: {GuessingClients} clients and {GuessingUsernames} usernames tracked, {GuessingEvicted} evicted at the caps",
                    h.PacketsReceived, h.DroppedByKernel, h.DroppedByInterface, h.Flows, h.BytesBuffered, h.Gaps, h.EventsWritten, h.EventsLost,
                    guessing?.ClientsTracked ?? 0, guessing?.UsernamesTracked ?? 0, guessing?.TracksEvicted ?? 0);
            }
        }
        catch (OperationCanceledException) { }
    }
}
