using Sensor.Outputs.EventLog;

namespace Sensor.Integration.Tests.EventLog;

/// <summary>An event output that keeps the lines in memory, for tests of formatting.</summary>
public sealed class MemoryEventOutput : EventOutput
{
    private readonly MemoryStream _bytes = new();

    public override string Name => "memory";

    public override bool Buffers => false;

    public override void Append(ReadOnlySpan<byte> line) => _bytes.Write(line);

    public override void Flush() { }

    public byte[] ToArray() => _bytes.ToArray();
}
