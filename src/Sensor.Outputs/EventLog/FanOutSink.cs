using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>Hands each event to several sinks in order (the writer, the summary, ...).</summary>
public sealed class FanOutSink(params IEventSink[] sinks) : IEventSink
{
    public void Emit(SensorEvent e)
    {
        foreach (var s in sinks) s.Emit(e);
    }
}
