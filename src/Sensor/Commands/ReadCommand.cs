using System.Runtime.InteropServices;
using System.CommandLine;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Live;
using Sensor.Capture.Parallel;
using Sensor.Configuration;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;
using Sensor.Outputs.Report;
using Sensor.Outputs.Summary;
using Serilog;

namespace Sensor.Commands;

/// <summary>
/// `sensor read [--json] [--reveal-secrets] [--report FILE.html] PATH...`: offline analysis of capture files. Each file
/// is analysed on its own (its own flows and clock), so files can be given in any order.
/// </summary>
public static class ReadCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per event on stdout, nothing else; the summary goes to stderr." };
        var reveal = new Option<bool>("--reveal-secrets") { Description = "Put real passwords, tokens and digests into events (forensics only)." };
        var noSummary = new Option<bool>("--no-summary") { Description = "Do not print the end-of-run summary." };
        var threads = new Option<int?>("--threads", "-j")
        {
            Description = $"Worker threads per classic pcap file (default: 1 under {WorkerDefaults.MinShardedBytes >> 20} MB; larger, the cores not busy when the file starts, at most {WorkerDefaults.MaxWorkers}). " +
                          "Output is identical for any count; 1 reads on one thread.",
        };
        threads.InRange(1, 64);
        var maxFlows = new Option<int?>("--max-flows")
        {
            Description = $"Connections tracked at once; beyond it the least recently active is evicted, handshake-only first (default {new ReassemblyLimits().MaxFlows:N0}).",
        };
        maxFlows.InRange(1, int.MaxValue);
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.OneOrMore, Description = "Capture files (pcap, pcapng) or folders of them." };
        // An unknown option would otherwise be taken for a PATH: make it the usage error it is.
        paths.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (t.Value.StartsWith('-') && t.Value.Length > 1 && !File.Exists(t.Value) && !Directory.Exists(t.Value))
                    r.AddError($"unknown option '{t.Value}'");
        });
        var config = new Option<string?>("--config", "-c") { Description = "JSON settings file, the same as `run` takes (analysis ports, guessing thresholds, reassembly bounds, Influx, Name); not read unless given." }.NonEmptyPath();
        var filter = new Option<string?>("--filter", "-f") { Description = "Analyse only frames this BPF filter matches (pcap-filter(7), as `tcpdump -r FILE EXPR`)." };
        var metricsTime = new Option<string?>("--metrics-time")
        {
            Description = "Time of the metric points: packet (default: when the login was on the wire) or now (when read: an old capture's points " +
                          "fall inside the dashboard's range and a short retention keeps them; re-reading a file then adds them again).",
        }.OneOf("packet", "now");
        var events = new Option<string?>("--events", "-e") { Description = "Write the events as JSON lines to this file (created 0640) instead of stdout." }.NonEmptyPath();
        var report = new Option<string?>("--report", "-r")
        {
            HelpName = "FILE.html",
            Description = "Also write a self-contained HTML report (servers, clients, usernames, timeline, guessing, what was skipped) to this file; passwords are never in it.",
        }.NonEmptyPath();
        var command = new Command("read", "Analyse capture files and report cleartext and weak mail logins.")
        {
            json, reveal, noSummary, threads, maxFlows, config, events, report, filter, metricsTime, paths,
        };
        var shared = new SharedOptions();
        shared.AddTo(command);
        command.SetAction(parse =>
        {
            var o = new Dictionary<string, string?>();
            void Set(string key, object? value) => SharedOptions.Set(o, key, value);
            shared.ApplyTo(parse, o);
            Set("Reassembly:MaxFlows", parse.GetValue(maxFlows));
            if (parse.GetValue(reveal)) o["Analysis:RevealSecrets"] = "true";
            SensorSettings settings;
            try
            {
                settings = SettingsLoader.Load(parse.GetValue(config), o, useDefaultFile: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or InvalidOperationException or OverflowException)
            {
                Console.Error.WriteLine($"sensor: configuration: {SettingsLoader.Describe(e)}");
                return ExitCodes.Usage;
            }
            return Run(settings, new ReadRequest(parse.GetValue(paths)!)
            {
                Json = parse.GetValue(json),
                NoSummary = parse.GetValue(noSummary),
                Threads = parse.GetValue(threads),
                EventsPath = parse.GetValue(events),
                ReportPath = parse.GetValue(report),
                Filter = parse.GetValue(filter),
                MetricsAtIngestion = string.Equals(parse.GetValue(metricsTime), "now", StringComparison.OrdinalIgnoreCase),
            });
        });
        return command;
    }

    /// <summary>What `read` was asked to do besides the shared settings.</summary>
    public sealed record ReadRequest(string[] Paths)
    {
        public bool Json { get; init; }
        public bool NoSummary { get; init; }
        /// <summary>Null: chosen per file (<see cref="WorkerDefaults.ForFile"/>).</summary>
        public int? Threads { get; init; }
        /// <summary>JSON-lines event file instead of stdout, or null.</summary>
        public string? EventsPath { get; init; }
        /// <summary>HTML report file, or null for none.</summary>
        public string? ReportPath { get; init; }
        /// <summary>BPF expression, or null for every frame.</summary>
        public string? Filter { get; init; }
        /// <summary>Metric points stamped when made rather than with packet time (`--metrics-time now`).</summary>
        public bool MetricsAtIngestion { get; init; }
    }

    /// <summary>On an interrupt: what was found reaches stdout before the process ends (default handling follows).</summary>
    private static void FlushQuietly(EventWriter writer)
    {
        try { writer.Flush(); }
        catch (EventSinkFailedException) { }
    }

    public static int Run(SensorSettings settings, ReadRequest request)
    {
        if (SettingsChecks.Problem(settings) is { } unusable)
        {
            Console.Error.WriteLine($"sensor: {unusable}");
            return ExitCodes.Usage;
        }
        CaptureFilter? filter = null;
        if (request.Filter is { } expression)
        {
            filter = CaptureFilter.Create(expression, out var filterError);
            if (filter is null)
            {
                Console.Error.WriteLine($"sensor: --filter: {filterError}");
                return ExitCodes.Usage;
            }
        }
        bool LinkSupported(PacketDotNet.LinkLayers link) => FrameDecoder.IsSupported(link);
        bool reveal = settings.Analysis.RevealSecrets;
        if (reveal) Log.Warning("--reveal-secrets: passwords and tokens will be written in clear to the output");

        // Buffered on stdout: flushed by the first finding 100 ms or more after the last flush, at each
        // file's end and on Ctrl-C/SIGTERM. A failed write (closed pipe, full disk) stops the read.
        EventOutput output;
        try
        {
            output = request.EventsPath is { } file && file != "-" ? new EventLogFile(file) : new StandardOutput();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"sensor: cannot open event file '{request.EventsPath}': {e.Message}");
            return ExitCodes.OutputFailed;
        }
        bool toStdout = output is StandardOutput;
        ReportFile? reportFile = null;
        if (request.ReportPath is { } reportPath)
        {
            try
            {
                reportFile = new ReportFile(reportPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"sensor: cannot write the report '{reportPath}': {e.Message}");
                output.Dispose();
                return ExitCodes.OutputFailed;
            }
        }
        using var reportFileLease = reportFile;
        var reportCollector = reportFile is null ? null : new ReportCollector();
        var writer = new EventWriter(output, request.Json || !toStdout, settings.Name, Log.Logger, TimeSpan.FromMilliseconds(100))
        {
            StopOnFailure = true,
        };
        // The report is not written on an interrupt (the read did not finish); its temporary file goes.
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => { FlushQuietly(writer); reportFile?.Dispose(); });
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => { FlushQuietly(writer); reportFile?.Dispose(); });
        var summary = new RunSummary();
        var influx = settings.Influx.ToWriterSettings(settings.Name);
        var metrics = influx.Enabled ? new InfluxMetricsWriter(influx) : null;
        var points = new LineProtocolPoints(influx.SensorName) { StampAtIngestion = request.MetricsAtIngestion };
        var sinks = new List<IEventSink> { writer, summary };
        if (metrics is not null) sinks.Add(new MetricsSink(metrics, points));
        if (reportCollector is not null) sinks.Add(reportCollector);
        IEventSink outputs = new FanOutSink([.. sinks]);
        // Directions are stamped after the guessing detector, so its alerts carry one too.
        if (settings.Site.ToHomeNetworks() is { } home) outputs = new Sensor.Core.Site.SiteDirectionStamp(home, outputs);
        var sink = new PasswordGuessingDetector(outputs, settings.Guessing.ToThresholds());
        summary.Guessing = sink;
        if (reportCollector is not null) reportCollector.Guessing = sink;
        var options = settings.Analysis.ToOptions(reveal, settings.Decoding) with { MaxServers = settings.Inventory.MaxServers };
        var limits = settings.Reassembly.ToLimits();
        int read = 0;
        int exit = ExitCodes.Ok;

        if (TestFault.Setting is { } testFault)
            Log.Warning("{Variable}={Value} is set: a test fault will be injected ({Armed}); never set it outside tests",
                TestFault.Variable, testFault, TestFault.Armed is null ? "value not understood, ignored" : "armed");
        var inputs = CaptureFiles.Expand(request.Paths).ToList();
        PacketPipeline? current = null; // the file being analysed on this thread, for its counts if it fails
        // On a terminal only, for a large input; a timer reads the process's read counter (ReadProgress).
        using var progress = ReadProgress.Start(inputs.Where(i => i.Problem is null).Select(i => i.Path).ToList());
        try
        {
            foreach (var (path, problem) in inputs)
            {
                if (problem is not null)
                {
                    Log.Error("{Path}: {Problem}", path, problem);
                    summary.AddFile(path, false, problem);
                    reportCollector?.AddFile(path, false, problem);
                    continue;
                }
                Stream? stream;
                try
                {
                    // Standard input, a named pipe or <(tcpdump -w -): read as it comes, on one thread.
                    stream = CaptureStreamSource.OpenIfStream(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.Error("{Path}: cannot read: {Error}", path, e.Message);
                    summary.AddFile(path, false, e.Message);
                    reportCollector?.AddFile(path, false, e.Message);
                    continue;
                }
                writer.CaptureFile = path;
                CaptureFileResult result;
                bool classic = stream is null && PcapFileReader.IsClassicPcap(path);
                int threads = !classic ? 1 : request.Threads ?? WorkerDefaults.ForFile(FileLength(path));
                bool parallel = threads > 1;
                progress?.FileStarted(path, parallel ? threads : 1);
                if (parallel)
                {
                    var outcome = ParallelFileAnalysis.Run(path, threads, options, limits, sink, LinkSupported, filter);
                    result = outcome.Result;
                    // Once, after the merge, in the table's fixed order: the same events for any thread count.
                    outcome.Servers.Report(sink, outcome.ClockNs);
                    summary.AddPipeline(outcome.Counters, outcome.Servers);
                    reportCollector?.AddPipeline(outcome.Counters, outcome.Servers);
                }
                else
                {
                    var pipeline = current = new PacketPipeline(options, limits, sink);
                    // A link type the filter cannot compile for lets no frame through; Prepare said why, once.
                    CaptureFileSource.FrameHandler onFrame = filter is null ? pipeline.OnFrame
                        : (link, frame, wire, ts) => { if (filter.Matches(link, frame, wire)) pipeline.OnFrame(link, frame, wire, ts); };
                    if (TestFault.Armed is { Where: TestFault.Site.ReadFrame } fault)
                    {
                        var analyse = onFrame;
                        onFrame = (link, frame, wire, ts) => { fault.CountFrameAndThrowIfDue(); analyse(link, frame, wire, ts); };
                    }
                    result = stream is not null ? CaptureStreamSource.Read(path, stream, onFrame, LinkSupported)
                        : CaptureStreamSource.Handles(path) ? CaptureStreamSource.Read(path, onFrame, LinkSupported)
                        : CaptureFileSource.Read(path, onFrame, LinkSupported);
                    pipeline.Finish();
                    pipeline.ReportServers();
                    summary.AddPipeline(pipeline.Counters, pipeline.Servers!);
                    reportCollector?.AddPipeline(pipeline.Counters, pipeline.Servers!);
                    current = null;
                }
                progress?.FileEnded();
                if (filter?.Unusable is { } unusableFilter) Log.Warning("{Path}: {Problem}: its frames were not analysed", path, unusableFilter);
                summary.AddFile(path, result.Read, result.Error);
                reportCollector?.AddFile(path, result.Read, result.Error);
                writer.Flush();
                if (result.Read) read++;
                if (result.Error is not null)
                {
                    if (result.Read)
                        Log.Warning("{Path}: {Error} (the {Packets} packets before it were analysed)", path, result.Error, result.Packets);
                    else
                        Log.Error("{Path}: cannot read: {Error}", path, result.Error);
                }
            }
        }
        catch (EventSinkFailedException)
        {
            // Logged by the writer with its cause; what was written before stays.
            exit = ExitCodes.OutputFailed;
        }
        catch (Exception e)
        {
            // A fault in the sensor itself (an analyzer's stays inside its connection: FaultBoundary).
            // The findings made before it are in the writer's buffer: they are written below, with
            // the summary, rather than lost with the process.
            progress?.Dispose();
            Log.Fatal(e, "internal error while reading {Path}: the findings before it are written; please report this, with the stack trace below", writer.CaptureFile);
            exit = ExitCodes.InternalError;
            var problem = "internal error: " + e.Message;
            summary.AddFile(writer.CaptureFile ?? "?", false, problem);
            reportCollector?.AddFile(writer.CaptureFile ?? "?", false, problem);
            if (current?.Servers is { } servers)
            {
                summary.AddPipeline(current.Counters, servers);
                reportCollector?.AddPipeline(current.Counters, servers);
            }
        }
        progress?.Dispose(); // erased before the summary and the metrics line
        writer.Dispose();
        if (exit == ExitCodes.Ok && writer.Lost > 0) exit = ExitCodes.OutputFailed;
        if (reportFile is not null && reportCollector is not null)
        {
            // What was analysed before an output failure stopped the read is still worth a page, marked as such.
            if (exit == ExitCodes.OutputFailed) reportCollector.Incomplete = "reading stopped early because the events could not be written";
            if (exit == ExitCodes.InternalError) reportCollector.Incomplete = "reading stopped early by an internal error of the sensor (see its log)";
            try
            {
                reportFile.Write(ReportPage.Render(reportCollector.Build(), DateTimeOffset.UtcNow, settings.Name));
                Log.Information("report written to {Path}", reportFile.Path);
            }
            catch (IOException e)
            {
                Log.Error("cannot write the report '{Path}': {Message}", reportFile.Path, e.Message);
                exit = ExitCodes.OutputFailed;
            }
        }
        if (filter is not null)
        {
            summary.FilterLine = $"filter '{filter.Expression}': {filter.Rejected} frames did not match and were not analysed";
            filter.Dispose();
        }

        if (metrics is not null)
        {
            metrics.DisposeAsync().AsTask().GetAwaiter().GetResult(); // deliver, or spool what cannot be sent
            var m = metrics.Counters;
            // The address as the writer prints it: never with credentials.
            summary.MetricsLine = $"metrics: {m.PointsWritten} points written to {metrics.TargetUrl}{(m.Server is { } server ? $" ({server})" : "")}, " +
                                  $"{m.PointsPending} waiting in the spool, {m.PointsRejected} refused by the server, {m.PointsDropped} dropped";
            if (m.PointsPending > 0)
                Log.Warning("{Pending} points did not reach the server (the cause is logged above); they wait in {Spool} for the next run to it", m.PointsPending, metrics.SpoolDirectory);
            if (m.PointsPending + m.PointsRejected + m.PointsDropped > 0 && exit == ExitCodes.Ok) exit = ExitCodes.MetricsUndelivered;
        }

        if (!request.NoSummary && !(exit == ExitCodes.OutputFailed && toStdout))
        {
            var report = summary.Render();
            if (request.Json || !toStdout) Console.Error.Write(report);
            else
            {
                // Through write(2) as the findings were: a closed pipe is an error here too.
                using var stdout = new StandardOutput();
                try
                {
                    stdout.Append(System.Text.Encoding.UTF8.GetBytes("\n" + report));
                    stdout.Flush();
                }
                catch (IOException e)
                {
                    Log.Error("cannot write the summary to standard output: {Message}", e.Message);
                    exit = ExitCodes.OutputFailed;
                }
            }
        }
        if (exit != ExitCodes.Ok) return exit;
        return read > 0 ? ExitCodes.Ok : ExitCodes.NoInput;
    }

    private static long FileLength(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // the reader says what is wrong with it
        }
    }
}
