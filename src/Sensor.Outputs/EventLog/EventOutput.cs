namespace Sensor.Outputs.EventLog;

/// <summary>
/// Where event lines go: standard output or the event log file. <see cref="Append"/> takes whole
/// lines; either it keeps the line (to be written by the next <see cref="Flush"/> if it buffers) or it
/// throws an <see cref="IOException"/> naming the cause, and then no part of that line is left behind.
/// </summary>
public abstract class EventOutput : IDisposable
{
    /// <summary>For messages: "standard output", "/var/log/mail-sensor/events.json".</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="Append"/> only buffers (lines count as written once flushed).</summary>
    public abstract bool Buffers { get; }

    /// <summary>Whether a buffering output can take a line of this size without writing first.</summary>
    public virtual bool Fits(int bytes) => true;

    public abstract void Append(ReadOnlySpan<byte> line);

    public abstract void Flush();

    public virtual void Dispose() { }
}
