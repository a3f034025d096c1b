using Sensor.Core.Events;

namespace Sensor.Outputs.Metrics;

/// <summary>Turns events into points and hands them to the writer's queue.</summary>
public sealed class MetricsSink(InfluxMetricsWriter writer, LineProtocolPoints points) : IEventSink
{
    public void Emit(SensorEvent e)
    {
        if (points.From(e) is { } line) writer.Enqueue(line);
    }
}
