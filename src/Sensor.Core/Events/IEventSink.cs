namespace Sensor.Core.Events;

/// <summary>Where analyzers hand finished events (the writers, the summary, later the metrics).</summary>
public interface IEventSink
{
    void Emit(SensorEvent e);
}
