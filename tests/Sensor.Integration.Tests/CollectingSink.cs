using Sensor.Core.Events;

namespace Sensor.Integration.Tests;

/// <summary>Keeps every event, in order, for the test to look at.</summary>
public sealed class CollectingSink : IEventSink
{
    public List<SensorEvent> Events { get; } = new();
    public void Emit(SensorEvent e) => Events.Add(e);
}
