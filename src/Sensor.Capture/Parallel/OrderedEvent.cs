using Sensor.Core.Events;

namespace Sensor.Capture.Parallel;

/// <summary>An event with the input position it was emitted at (see <see cref="Core.Reassembly.InputPosition"/>).</summary>
internal readonly record struct OrderedEvent(long Packet, long Rank, SensorEvent Event)
{
    public bool Precedes(in OrderedEvent other) =>
        Packet < other.Packet || (Packet == other.Packet && Rank < other.Rank);
}
