namespace Sensor.Core.Tests.Support;

/// <summary>Keeps every event an analyzer emits, in order.</summary>
public sealed class CollectingSink : IEventSink
{
    public List<SensorEvent> Events { get; } = new();

    public IReadOnlyList<AuthAttempt> Auths => Events.OfType<AuthAttempt>().ToList();
    public IReadOnlyList<StartTlsUpgrade> StartTls => Events.OfType<StartTlsUpgrade>().ToList();

    public void Emit(SensorEvent e) => Events.Add(e);
}
