namespace Sensor.Core.Tests.Support;

/// <summary>Packet time for synthetic traffic: every segment is one millisecond after the last.</summary>
public sealed class PacketClock
{
    public const long Start = 1_700_000_000_000_000_000L;
    public const long Step = 1_000_000L;

    public long Now { get; private set; } = Start;

    public long Tick() => Now += Step;

    public void Advance(long ns) => Now += ns;
}
