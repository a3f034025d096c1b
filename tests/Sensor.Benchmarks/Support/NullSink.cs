using Sensor.Core.Events;

namespace Sensor.Benchmarks.Support;

/// <summary>Discards events: the benchmarks measure the analysis, not the writers.</summary>
public sealed class NullSink : IEventSink
{
    public static readonly NullSink Instance = new();
    public long Count;
    public void Emit(SensorEvent e) => Count++;
}
