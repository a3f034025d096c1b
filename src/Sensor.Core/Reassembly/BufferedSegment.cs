namespace Sensor.Core.Reassembly;

/// <summary>An out-of-order segment's bytes, copied into a pooled array until the hole before it fills.</summary>
internal struct BufferedSegment
{
    public TcpSequence Sequence;
    public byte[] Data;
    public int Length;
}
