using PacketDotNet;

namespace Sensor.Capture.Parallel;

/// <summary>
/// Frames copied from the capture thread to one live worker, with a clock tick or the end of
/// capture riding along. Batches are reused through a fixed pool: no allocation per packet, and the
/// pool's size bounds how far a worker can fall behind (then the capture thread waits and the
/// kernel ring absorbs, or counts, the excess).
/// </summary>
internal sealed class FrameBatch
{
    public const int ByteCapacity = 512 * 1024; // holds at least one frame of the largest snapshot length
    public const int FrameCapacity = 2048;

    public readonly byte[] Bytes = new byte[ByteCapacity];
    public readonly (int Offset, int Length, int WireLength, long TimestampNs)[] Frames = new (int, int, int, long)[FrameCapacity];
    public LinkLayers Link;
    public int Count;
    public int Used;
    /// <summary>Packet or wall time to advance the worker's clock to after the frames; -1 for none.</summary>
    public long TickNs = -1;
    public bool EndOfCapture;

    public bool IsFull => Count == FrameCapacity;

    public bool TryAdd(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs)
    {
        if (Count == FrameCapacity || Used + frame.Length > ByteCapacity || (Count > 0 && link != Link)) return false;
        Link = link;
        frame.CopyTo(Bytes.AsSpan(Used));
        Frames[Count++] = (Used, frame.Length, wireLength, timestampNs);
        Used += frame.Length;
        return true;
    }

    public void Reset()
    {
        Count = 0;
        Used = 0;
        TickNs = -1;
        EndOfCapture = false;
    }
}
