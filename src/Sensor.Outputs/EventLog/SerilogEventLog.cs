using Sensor.Core.Events;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// The live service's event log: JSON lines through Serilog into a rolling file (at a
/// size limit the file moves on to NAME_001 and so on, old files retained up to a count; the
/// current file keeps the configured name), optionally also to stdout. Each event is flushed
/// as it is written so it reaches the file within milliseconds of the server's answer.
/// </summary>
public sealed class SerilogEventLog : IEventSink, IDisposable
{
    private readonly Logger _logger;

    public SerilogEventLog(string? path, bool alsoStdout, long fileSizeLimitBytes = 256L * 1024 * 1024, int retainedFiles = 14)
    {
        var config = new LoggerConfiguration().MinimumLevel.Information();
        if (!string.IsNullOrEmpty(path) && path != "-")
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            config = config.WriteTo.File(new RawJsonFormatter(), path,
                rollingInterval: RollingInterval.Infinite, rollOnFileSizeLimit: true,
                fileSizeLimitBytes: fileSizeLimitBytes, retainedFileCountLimit: retainedFiles,
                buffered: false);
        }
        if (path == "-" || alsoStdout)
            config = config.WriteTo.Console(new RawJsonFormatter(), standardErrorFromLevel: null);
        _logger = config.CreateLogger();
    }

    public long Written { get; private set; }

    public void Emit(SensorEvent e)
    {
        var json = JsonEventFormatter.ToJson(e);
        _logger.Write(new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null, MessageTemplate.Empty,
            [new LogEventProperty(RawJsonFormatter.PropertyName, new ScalarValue(json))]));
        Written++;
    }

    public void Dispose() => _logger.Dispose();
}
