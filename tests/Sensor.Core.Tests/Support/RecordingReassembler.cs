namespace Sensor.Core.Tests.Support;

/// <summary>A reassembler whose consumers record what they get; segments are sent by hand.</summary>
public sealed class RecordingReassembler
{
    public RecordingReassembler(ReassemblyLimits? limits = null, params ushort[] serverPorts)
    {
        Reassembler = new TcpReassembler(Factory, limits ?? new ReassemblyLimits(), Counters,
            serverPorts.Length == 0 ? [5555] : serverPorts);
    }

    public RecordingConsumerFactory Factory { get; } = new();
    public SensorCounters Counters { get; } = new();
    public TcpReassembler Reassembler { get; }
    public PacketClock Clock { get; } = new();

    public void Send(IpEndpoint from, IpEndpoint to, uint seq, TcpFlags flags, ReadOnlySpan<byte> payload = default, uint ack = 0) =>
        Reassembler.OnSegment(new TcpSegment(from, to, seq, ack, flags, payload, Clock.Tick()));

    public RecordingConsumer Single()
    {
        Assert.Single(Factory.Created);
        return Factory.Created[0];
    }

    /// <summary>Deterministic filler bytes that differ at every offset within 251 bytes.</summary>
    public static byte[] Pattern(int length, int salt = 0)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)((i + salt) % 251);
        return b;
    }
}
