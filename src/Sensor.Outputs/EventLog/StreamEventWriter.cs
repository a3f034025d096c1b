using System.Diagnostics;
using System.Text;
using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// Writes events to a stream as JSON lines or readable lines. Without a flush interval every event
/// is flushed as it is written. With one (the offline reader over a buffered stdout), the stream is
/// flushed by the first event written at least that long after the previous flush, and by
/// <see cref="Flush"/> (the reader calls it at the end of each file and on Ctrl-C): one write per
/// event cost a quarter of a second per 50,000 findings, and nothing found is lost to a crash of the
/// input side, an interrupt or a full disk (which is reported).
/// </summary>
public sealed class StreamEventWriter(Stream output, bool json, TimeSpan? flushInterval = null) : IEventSink
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly Lock _gate = new();
    private readonly long _flushTicks = flushInterval is { } i ? (long)(i.TotalSeconds * Stopwatch.Frequency) : 0;
    private long _lastFlush = Stopwatch.GetTimestamp();

    /// <summary>Named in each JSON event while a capture file is being read.</summary>
    public string? CaptureFile { get; set; }

    private string? _headedFile;

    public long Written { get; private set; }

    public void Emit(SensorEvent e)
    {
        lock (_gate)
        {
            if (json) JsonEventFormatter.Write(output, e, CaptureFile);
            else
            {
                // Readable output names each capture once, above its first finding (a file name
                // found in a folder is someone else's text too).
                if (CaptureFile is not null && CaptureFile != _headedFile)
                {
                    output.Write(Encoding.UTF8.GetBytes($"{(_headedFile is null ? "" : "\n")}== {WireText.Escape(CaptureFile)}\n"));
                    _headedFile = CaptureFile;
                }
                output.Write(Encoding.UTF8.GetBytes(TextEventFormatter.Format(e)));
            }
            output.Write(NewLine);
            Written++;
            long now = Stopwatch.GetTimestamp();
            if (_flushTicks == 0 || now - _lastFlush >= _flushTicks)
            {
                output.Flush();
                _lastFlush = now;
            }
        }
    }

    /// <summary>Writes out whatever is buffered; safe to call from a signal handler's thread.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            output.Flush();
            _lastFlush = Stopwatch.GetTimestamp();
        }
    }
}
