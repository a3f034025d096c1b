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

    /// <summary>Runs <paramref name="action"/> under the same lock: work on the shared part from outside the workers.</summary>
    public void Locked<T>(T state, Action<T> action)
    {
        lock (_gate) action(state);
    }
}
