using Sensor.Core.Health;
using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sensor.Capture;
using Sensor.Capture.Live;
using Sensor.Capture.Parallel;
using Sensor.Configuration;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Hosting;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;
using Serilog;
using Serilog.Events;

namespace Sensor.Commands;

/// <summary>
/// `sensor run`: the unattended live service on a SPAN/mirror port, hosted with
/// Microsoft.Extensions.Hosting (systemd notify and journald-friendly logs when run by systemd).
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config", "-c") { Description = $"JSON config file (default: {SettingsLoader.DefaultConfigPath} if present)." }.NonEmptyPath();
        var iface = new Option<string?>("--interface", "-i") { Description = "Interface to capture on (see 'sensor interfaces')." };
        var events = new Option<string?>("--events", "-e") { Description = "JSON-lines event log path; '-' for stdout." }.NonEmptyPath();
        var filter = new Option<string?>("--filter") { Description = "BPF capture filter (overrides --ports)." };
        var ports = new Option<string?>("--ports") { Description = "Capture only these TCP ports, comma-separated (default: every TCP flow)." };
        var snaplen = new Option<int?>("--snaplen") { Description = "Bytes captured per packet (default 65535)." }.InRange(64, 262144);
        var buffer = new Option<int?>("--buffer-size") { Description = "Kernel capture buffer in MiB (default 64)." }.InRange(1, 4096);
        var promisc = new Option<bool?>("--promiscuous") { Description = "Promiscuous mode, true or false (default true)." };
        var workers = new Option<int?>("--workers") { Description = "Analysis threads sharing the connections (default: 1, analysed on the capture thread, up to 2 cores; beyond, every core but one, at most 8)." };
        workers.InRange(0, 64, " (0: the default)");
        var fanout = new Option<int?>("--fanout-group") { Description = "AF_PACKET fanout group (0-65535, Linux): sensors on one interface with the same group share its connections." };
        fanout.InRange(0, 65535);
        var level = new Option<string?>("--log-level") { Description = "Verbose, Debug, Information, Warning or Error." };
        var reveal = new Option<bool>("--reveal-secrets") { Description = "Put real passwords and tokens into events (forensics only)." };
        var command = new Command("run", "Capture live on an interface and report mail logins as they happen.")
        {
            config, iface, events, filter, ports, snaplen, buffer, promisc, workers, fanout, level, reveal,
        };
        var shared = new SharedOptions();
        shared.AddTo(command);
        command.SetAction(parse =>
        {
            var o = new Dictionary<string, string?>();
            void Set(string key, object? value) => SharedOptions.Set(o, key, value);
            shared.ApplyTo(parse, o);
            Set("Capture:Interface", parse.GetValue(iface));
            Set("Events:Path", parse.GetValue(events));
            Set("Capture:Filter", parse.GetValue(filter));
            Set("Capture:Ports", parse.GetValue(ports));
            Set("Capture:SnapLength", parse.GetValue(snaplen));
            Set("Capture:BufferSizeMiB", parse.GetValue(buffer));
            Set("Capture:Promiscuous", parse.GetValue(promisc));
            Set("Capture:Workers", parse.GetValue(workers));
            Set("Capture:FanoutGroup", parse.GetValue(fanout));
            Set("LogLevel", parse.GetValue(level));
            if (parse.GetValue(reveal)) o["Analysis:RevealSecrets"] = "true";
            SensorSettings settings;
            try
            {
                settings = SettingsLoader.Load(parse.GetValue(config), o);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or InvalidOperationException or OverflowException)
            {
                Console.Error.WriteLine($"sensor: configuration: {SettingsLoader.Describe(e)}");
                return ExitCodes.Usage;
            }
            return Run(settings);
        });
        return command;
    }

    /// <summary>
    /// The event log file, and stdout besides it when Events:Stdout is set (for journald). The file
    /// is opened now, before capturing, so that an unwritable path is an error at start.
    /// </summary>
    private static IReadOnlyList<EventWriter> OpenEventLog(SensorSettings settings, ILogger log)
    {
        var path = settings.Events.Path;
        var writers = new List<EventWriter>();
        if (!string.IsNullOrEmpty(path) && path != "-")
            writers.Add(new EventWriter(new EventLogFile(path, settings.Events.MaxFileSizeMiB * 1024L * 1024, settings.Events.RetainedFiles),
                json: true, settings.Name, log));
        if (path == "-" || settings.Events.Stdout || writers.Count == 0)
            writers.Add(new EventWriter(new StandardOutput(), json: true, settings.Name, log, flushInterval: TimeSpan.Zero));
        return writers;
    }

    public static int Run(SensorSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.Capture.Interface))
        {
            Console.Error.WriteLine("sensor: no interface given: use --interface NAME or Capture:Interface in the config (see 'sensor interfaces')");
            return ExitCodes.Usage;
        }
        if (SettingsChecks.Problem(settings) is { } unusable)
        {
            Console.Error.WriteLine($"sensor: {unusable}");
            return ExitCodes.Usage;
        }
        var level = Enum.Parse<LogEventLevel>(settings.LogLevel, ignoreCase: true);

        var appLog = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.With<Sensor.Outputs.Diagnostics.ControlCharacterEscaper>()
            .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} {Level:u3} {Message:lj}{NewLine}{Exception}")
            .CreateLogger();
        AnalyzerFaultLog.Use((flowId, where) =>
            appLog.Warning("analyzer fault in connection {FlowId} ({Where}): that connection is no longer analysed", flowId, where));
        try
        {
            var capture = new CaptureSettings
            {
                Interface = settings.Capture.Interface!,
                Filter = settings.Capture.Filter,
                Ports = settings.Capture.Ports,
                TunnelPorts = [.. settings.Decoding.VxlanPorts, .. settings.Decoding.GenevePorts],
                SnapLength = settings.Capture.SnapLength,
                BufferSizeMiB = settings.Capture.BufferSizeMiB,
                Promiscuous = settings.Capture.Promiscuous,
                FanoutGroup = settings.Capture.FanoutGroup,
            };
            if (PipelineWarmUp.Needed) PipelineWarmUp.Run(); // before the ring starts filling: first packets must not meet cold code
            var source = new LiveCaptureSource(capture);
            try
            {
                source.Open(); // fail fast on a wrong name, missing permission or libpcap
            }
            catch (CaptureDeviceException e) when (e.Retryable && SystemdService.Detected)
            {
                // Run by a service manager, a missing or down interface may still come (a late NIC driver): the service waits for it.
            }
            catch (CaptureDeviceException e)
            {
                Console.Error.WriteLine($"sensor: {e.Message}");
                return e.Problem == CaptureProblem.InvalidFilter ? ExitCodes.Usage : ExitCodes.CaptureUnavailable;
            }

            IReadOnlyList<EventWriter> events;
            try
            {
                events = OpenEventLog(settings, appLog);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Before capturing: a sensor that cannot keep what it finds must not pretend to run.
                Console.Error.WriteLine($"sensor: cannot open the event log '{settings.Events.Path}': {e.Message}");
                source.Close();
                return ExitCodes.OutputFailed;
            }

            if (settings.Analysis.RevealSecrets) appLog.Warning("reveal-secrets is on: passwords and tokens are written to the event log");
            var options = settings.Analysis.ToOptions(settings.Analysis.RevealSecrets, settings.Decoding) with
            {
                MaxServers = settings.Inventory.MaxServers,
                ServerReportInterval = TimeSpan.FromSeconds(settings.Inventory.IntervalSeconds),
            };
            var influx = settings.Influx.ToWriterSettings(settings.Name);
            var metrics = influx.Enabled ? new InfluxMetricsWriter(influx) : null;
            var points = new LineProtocolPoints(influx.SensorName);
            IEventSink outputs = metrics is null
                ? new FanOutSink([.. events])
                : new FanOutSink([.. events, new MetricsSink(metrics, points)]);
            // Directions are stamped after the guessing detector, so its alerts carry one too.
            if (settings.Site.ToHomeNetworks() is { } home) outputs = new Sensor.Core.Site.SiteDirectionStamp(home, outputs);
            var detector = new PasswordGuessingDetector(outputs, settings.Guessing.ToThresholds());
            int workers = settings.Capture.Workers > 0 ? settings.Capture.Workers : WorkerDefaults.ForLive();
            IFrameAnalysis pipeline = workers > 1
                ? new ParallelLiveAnalysis(options, settings.Reassembly.ToLimits(), detector, workers)
                : new PacketPipeline(options, settings.Reassembly.ToLimits(), detector);
            var service = new CaptureService(source, pipeline, events, appLog,
                TimeSpan.FromSeconds(Math.Max(1, settings.Health.IntervalSeconds)),
                metrics, points, TimeSpan.FromSeconds(Math.Max(1, settings.Health.MetricsIntervalSeconds)), detector);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSystemd();
            builder.Services.AddSerilog(appLog);
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
            builder.Services.AddSingleton<IHostedService>(sp => service.StopsApplication(sp.GetRequiredService<IHostApplicationLifetime>()));
            using var host = builder.Build();
            appLog.Information("sensor {Name} capturing on {Interface} (filter '{Filter}', snaplen {Snaplen}, promiscuous {Promiscuous}, {Workers} analysis workers); events to {Events}",
                settings.Name, capture.Description, capture.EffectiveFilter ?? "none: every frame", capture.SnapLength, capture.Promiscuous, workers, settings.Events.Path);
            host.Run();
            return service.ExitCode; // 5 when the capture failed: the unit restarts the sensor
        }
        finally
        {
            appLog.Dispose();
        }
    }
}
