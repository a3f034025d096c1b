using Sensor.Core.Events;
using Sensor.Core.Reassembly;

namespace Sensor.Capture.Parallel;

/// <summary>A worker's sink: stamps each event with where the input stood, and holds it for the merge.</summary>
internal sealed class ShardEventBuffer : IEventSink
{
    public InputPosition Position { get; set; } = new();

    public List<OrderedEvent> Pending { get; private set; } = new();

    public void Emit(SensorEvent e) => Pending.Add(new OrderedEvent(Position.Packet, Position.Rank, e));

    public List<OrderedEvent> TakePending()
    {
        var taken = Pending;
        Pending = new List<OrderedEvent>();
        return taken;
    }
}
