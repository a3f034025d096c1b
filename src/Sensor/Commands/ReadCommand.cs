using System.Runtime.InteropServices;
using System.CommandLine;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;
using Sensor.Outputs.Summary;
using Serilog;

namespace Sensor.Commands;

/// <summary>
/// `sensor read [--json] [--reveal-secrets] PATH...`: offline analysis of capture files. Each file
/// is analysed on its own (its own flows and clock), so files can be given in any order.
/// </summary>
public static class ReadCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per event on stdout, nothing else; the summary goes to stderr." };
        var reveal = new Option<bool>("--reveal-secrets") { Description = "Put real passwords, tokens and digests into events (forensics only)." };
        var noSummary = new Option<bool>("--no-summary") { Description = "Do not print the end-of-run summary." };
        var influxUrl = new Option<string?>("--influx-url") { Description = "Write metrics to this InfluxDB (v2 write API), e.g. http://localhost:8086. Env: SENSOR_Influx__Url." }.HttpUrl();
        var influxToken = new Option<string?>("--influx-token") { Description = "InfluxDB API token. Env: SENSOR_Influx__Token (preferred: not visible in ps)." };
        var influxOrg = new Option<string?>("--influx-org") { Description = "InfluxDB organization (default mail-sensor)." };
        var influxBucket = new Option<string?>("--influx-bucket") { Description = "InfluxDB bucket (default mail_sensor)." };
        var sensorName = new Option<string?>("--sensor-name") { Description = "The `sensor` tag on metrics (default: host name)." };
        var spoolDir = new Option<string?>("--spool-dir") { Description = "Where points wait while InfluxDB is unreachable." };
        var threads = new Option<int?>("--threads", "-j")
        {
            Description = $"Worker threads per classic pcap file (default: the cores, at most 8; here {ParallelFileAnalysis.DefaultWorkers}). " +
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
        var command = new Command("read", "Analyse capture files and report cleartext and weak mail logins.")
        {
            json, reveal, noSummary, threads, maxFlows, influxUrl, influxToken, influxOrg, influxBucket, sensorName, spoolDir, paths,
        };
        command.SetAction(parse =>
        {
            string? Env(string key) => Environment.GetEnvironmentVariable("SENSOR_Influx__" + key);
            var defaults = new InfluxSettings();
            var influx = new InfluxSettings
            {
                Url = parse.GetValue(influxUrl) ?? Env("Url"),
                Token = parse.GetValue(influxToken) ?? Env("Token"),
                Org = parse.GetValue(influxOrg) ?? Env("Org") ?? defaults.Org,
                Bucket = parse.GetValue(influxBucket) ?? Env("Bucket") ?? defaults.Bucket,
                SensorName = parse.GetValue(sensorName) ?? Environment.GetEnvironmentVariable("SENSOR_Name") ?? defaults.SensorName,
                SpoolDirectory = parse.GetValue(spoolDir) ?? Env("SpoolDirectory") ?? defaults.SpoolDirectory,
            };
            return Run(parse.GetValue(paths)!, parse.GetValue(json), parse.GetValue(reveal), parse.GetValue(noSummary), influx,
                parse.GetValue(threads) ?? ParallelFileAnalysis.DefaultWorkers, parse.GetValue(maxFlows));
        });
        return command;
    }

    /// <summary>On an interrupt: what was found reaches stdout before the process ends (default handling follows).</summary>
    private static void FlushQuietly(StreamEventWriter writer)
    {
        try { writer.Flush(); }
        catch (IOException) { }
    }

    public static int Run(string[] paths, bool json, bool reveal, bool noSummary, InfluxSettings influx, int threads = 1, int? maxFlows = null)
    {
        if (influx.Url is { Length: > 0 } url && !OptionChecks.IsHttpUrl(url))
        {
            // From SENSOR_Influx__Url (the option is checked where it is parsed).
            Console.Error.WriteLine("sensor: SENSOR_Influx__Url must be an http:// or https:// address (the value is not repeated: it may hold credentials)");
            return ExitCodes.Usage;
        }
        if (reveal) Log.Warning("--reveal-secrets: passwords and tokens will be written in clear to the output");

        // Buffered: flushed by the first finding 100 ms or more after the last flush, at each file's end
        // and on Ctrl-C/SIGTERM.
        var stdout = new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
        var writer = new StreamEventWriter(stdout, json, TimeSpan.FromMilliseconds(100));
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => FlushQuietly(writer));
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => FlushQuietly(writer));
        var summary = new RunSummary();
        var metrics = influx.Enabled ? new InfluxMetricsWriter(influx) : null;
        var points = new LineProtocolPoints(influx.SensorName);
        IEventSink outputs = metrics is null
            ? new FanOutSink(writer, summary)
            : new FanOutSink(writer, summary, new MetricsSink(metrics, points));
        var sink = new PasswordGuessingDetector(outputs, new GuessingThresholds());
        summary.Guessing = sink;
        var options = new AnalysisOptions { RevealSecrets = reveal };
        var limits = maxFlows is { } cap ? new ReassemblyLimits { MaxFlows = cap } : new ReassemblyLimits();
        int read = 0;

        try
        {
            foreach (var (path, problem) in CaptureFiles.Expand(paths))
            {
                if (problem is not null)
                {
                    Log.Error("{Path}: {Problem}", path, problem);
                    summary.AddFile(path, false, problem);
                    continue;
                }
                writer.CaptureFile = path;
                CaptureFileResult result;
                if (threads > 1 && PcapFileReader.IsClassicPcap(path))
                {
                    var outcome = ParallelFileAnalysis.Run(path, threads, options, limits, sink, FrameDecoder.IsSupported);
                    result = outcome.Result;
                    summary.AddPipeline(outcome.Counters, outcome.Servers);
                }
                else
                {
                    var pipeline = new PacketPipeline(options, limits, sink);
                    result = CaptureFileSource.Read(path, pipeline.OnFrame, FrameDecoder.IsSupported);
                    pipeline.Finish();
                    summary.AddPipeline(pipeline.Counters, pipeline.Servers!);
                }
                summary.AddFile(path, result.Read, result.Error);
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
        catch (IOException e)
        {
            Log.Error("cannot write findings: {Message}", e.Message);
            return ExitCodes.OutputFailed;
        }

        if (metrics is not null)
        {
            metrics.DisposeAsync().AsTask().GetAwaiter().GetResult(); // flush, or spool what cannot be sent
            var m = metrics.Counters;
            summary.MetricsLine = $"metrics: {m.PointsWritten} points written to {influx.Url}, {m.PointsSpooled} spooled, " +
                                  $"{m.PointsRejected} rejected, {m.PointsDropped} dropped (spool full), {m.WriteFailures} failed writes";
            if (m.PointsWritten < m.PointsQueued)
                Log.Warning("{Unsent} points not yet in InfluxDB wait in {Spool} for the next run", m.PointsQueued - m.PointsWritten - m.PointsRejected, influx.SpoolDirectory);
        }

        if (!noSummary)
        {
            var report = summary.Render();
            if (json) Console.Error.Write(report);
            else
            {
                try { Console.Out.Write("\n" + report); Console.Out.Flush(); }
                catch (IOException e) { Log.Error("cannot write summary: {Message}", e.Message); return ExitCodes.OutputFailed; }
            }
        }
        return read > 0 ? ExitCodes.Ok : ExitCodes.NoInput;
    }
}
