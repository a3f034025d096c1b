using Sensor.Core.Events;

namespace Sensor.Capture.Parallel;

/// <summary>Serialises live workers' events into the single-threaded part (postures, guessing, outputs).</summary>
internal sealed class LockedSink(IEventSink inner) : IEventSink
{
    private readonly Lock _gate = new();

    public void Emit(SensorEvent e)
    {
        lock (_gate) inner.Emit(e);
    }
}
