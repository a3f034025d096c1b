using System.Text;
using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>Writes events to a stream as JSON lines or readable lines, flushing each so nothing found is lost on a crash.</summary>
public sealed class StreamEventWriter(Stream output, bool json) : IEventSink
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>Named in each JSON event while a capture file is being read.</summary>
    public string? CaptureFile { get; set; }

    private string? _headedFile;

    public long Written { get; private set; }

    public void Emit(SensorEvent e)
    {
        if (json) JsonEventFormatter.Write(output, e, CaptureFile);
        else
        {
            // Readable output names each capture once, above its first finding.
            if (CaptureFile is not null && CaptureFile != _headedFile)
            {
                output.Write(Encoding.UTF8.GetBytes($"{(_headedFile is null ? "" : "\n")}== {CaptureFile}\n"));
                _headedFile = CaptureFile;
            }
            output.Write(Encoding.UTF8.GetBytes(TextEventFormatter.Format(e)));
        }
        output.Write(NewLine);
        output.Flush();
        Written++;
    }
}
