using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Sensor.Core.Events;
using Serilog;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// The one event writer of `read` and `run`: formats each event (JSON lines, or readable lines for a
/// person at a terminal) and hands it to an <see cref="EventOutput"/>.
///
/// Nothing is lost silently. <see cref="Written"/> counts lines the output took (for a buffering
/// output: once flushed), <see cref="Lost"/> those it refused, with the first failure's cause logged
/// once and a line when writing works again. What happens next depends on who reads the events:
/// reading files stops at once (<see cref="StopOnFailure"/>: a closed pipe or a full disk will not
/// take the rest either, and `read | head -1` must end promptly), while the live service keeps
/// capturing and tries each new event again (a full disk may be freed), and exits non-zero at stop.
///
/// Flushing: without an interval every event is flushed as it is written (the live service: a
/// finding is on disk within milliseconds of the server's answer). With one, the output is flushed
/// by the first event written at least that long after the previous flush and by <see cref="Flush"/>
/// (the reader calls it at the end of each file and on Ctrl-C): one write per event cost a quarter
/// of a second per 50,000 findings.
/// </summary>
public sealed class EventWriter : IEventSink, IDisposable
{
    private readonly EventOutput _output;
    private readonly bool _json;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly long _flushTicks;
    private readonly MemoryStream _line = new();
    private Utf8JsonWriter? _jsonWriter;
    private long _lastFlush = Stopwatch.GetTimestamp();
    private long _unflushed;
    private string? _headedFile;
    private long _written, _lost;
    private volatile string? _failure;

    /// <param name="host">The `host` field of every JSON event: the sensor's name (EVE's field).</param>
    public EventWriter(EventOutput output, bool json, string host, ILogger log, TimeSpan? flushInterval = null)
    {
        _output = output;
        _json = json;
        Host = host;
        _log = log;
        _flushTicks = flushInterval is { } i ? (long)(i.TotalSeconds * Stopwatch.Frequency) : 0;
    }

    public string Host { get; }

    /// <summary>Throw <see cref="EventSinkFailedException"/> when the output fails, stopping the analysis.</summary>
    public bool StopOnFailure { get; init; }

    /// <summary>Named in each event while a capture file is being read.</summary>
    public string? CaptureFile { get; set; }

    public string OutputName => _output.Name;

    /// <summary>Events the output took (flushed, for a buffering output).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Events the output refused or lost with a failed flush.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>The cause of the first failure not yet followed by a successful write, or null.</summary>
    public string? Failure => _failure;

    public void Emit(SensorEvent e)
    {
        lock (_gate)
        {
            Format(e);
            var line = _line.GetBuffer().AsSpan(0, (int)_line.Length);
            bool appended = false;
            try
            {
                if (!_output.Buffers)
                {
                    _output.Append(line);
                    Interlocked.Increment(ref _written);
                    Recovered();
                    return;
                }
                if (!_output.Fits(line.Length)) FlushBuffered();
                _output.Append(line);
                _unflushed++;
                appended = true;
                long now = Stopwatch.GetTimestamp();
                if (_flushTicks == 0 || now - _lastFlush >= _flushTicks) FlushBuffered();
            }
            catch (IOException x)
            {
                // Whatever was buffered went with the failed write; a line not yet appended is lost too.
                Failed(x, lost: TakeUnflushed() + (appended ? 0 : 1));
            }
        }
    }

    /// <summary>Writes out whatever is buffered; safe to call from a signal handler's thread.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (!_output.Buffers) return;
            try { FlushBuffered(); }
            catch (IOException x) { Failed(x, lost: TakeUnflushed()); }
        }
    }

    public void Dispose()
    {
        try { Flush(); }
        catch (EventSinkFailedException) { } // counted and logged; nothing more to stop
        _jsonWriter?.Dispose();
        _output.Dispose();
    }

    private void FlushBuffered()
    {
        _lastFlush = Stopwatch.GetTimestamp();
        _output.Flush();
        long flushed = TakeUnflushed();
        if (flushed == 0) return;
        Interlocked.Add(ref _written, flushed);
        Recovered();
    }

    private long TakeUnflushed()
    {
        long n = _unflushed;
        _unflushed = 0;
        return n;
    }

    private void Failed(IOException x, long lost)
    {
        if (lost > 0) Interlocked.Add(ref _lost, lost);
        if (_failure is null)
        {
            _failure = x.Message;
            if (StopOnFailure) _log.Error("cannot write events to {Output}: {Cause}; stopping", _output.Name, x.Message);
            else _log.Error("cannot write events to {Output}: {Cause}; events are lost (counted: events_lost) until it works again", _output.Name, x.Message);
        }
        if (StopOnFailure)
            throw new EventSinkFailedException($"cannot write events to {_output.Name}: {x.Message}", x);
    }

    private void Recovered()
    {
        if (_failure is null) return;
        _failure = null;
        _log.Warning("events are written to {Output} again; {Lost} events were lost while it failed", _output.Name, Lost);
    }

    private void Format(SensorEvent e)
    {
        _line.SetLength(0);
        if (_json)
        {
            // One writer for every event, reset onto the line: a new one per event allocated its
            // buffer afresh and grew it several times, 13.6 M of 410 M instructions (callgrind,
            // `read --json` of a 2,000-session capture) with the GC's zeroing of that memory on top.
            _jsonWriter ??= JsonEventFormatter.CreateWriter(_line);
            _jsonWriter.Reset(_line);
            JsonEventFormatter.Write(_jsonWriter, e, Host, CaptureFile);
        }
        else
        {
            // Readable output names each capture once, above its first finding (a file name found in
            // a folder is someone else's text too).
            if (CaptureFile is not null && CaptureFile != _headedFile)
            {
                _line.Write(Encoding.UTF8.GetBytes($"{(_headedFile is null ? "" : "\n")}== {WireText.Escape(CaptureFile)}\n"));
                _headedFile = CaptureFile;
            }
            _line.Write(Encoding.UTF8.GetBytes(TextEventFormatter.Format(e)));
        }
        _line.WriteByte((byte)'\n');
    }
}
