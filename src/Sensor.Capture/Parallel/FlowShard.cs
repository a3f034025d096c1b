using Sensor.Core.Flows;

namespace Sensor.Capture.Parallel;

/// <summary>
/// Which connections one worker analyses: those whose endpoint pair hashes to its index. The hash
/// is symmetric (both directions of a connection land on the same worker) and fixed (not .NET's
/// per-process randomised hashing), so a file is split the same way on every run.
/// </summary>
public readonly record struct FlowShard(int Index, int Count)
{
    public static FlowShard Whole => new(0, 1);

    public bool IsWhole => Count == 1;

    public bool Owns(in TcpSegment segment) => Count == 1 || IndexOf(segment, Count) == Index;

    /// <summary>The worker, of <paramref name="count"/>, that owns the segment's connection.</summary>
    public static int IndexOf(in TcpSegment segment, int count) =>
        (int)((Mix(segment.Source) ^ Mix(segment.Destination)) % (ulong)count);

    /// <summary>Frames that are not TCP (counted, not analysed) belong to the first worker.</summary>
    public bool OwnsNonTcp => Index == 0;

    private static ulong Mix(in IpEndpoint e)
    {
        // splitmix64 finaliser over the folded address and port: cheap and well spread.
        ulong x = (ulong)(e.Address >> 64) * 0x9E3779B97F4A7C15UL ^ (ulong)e.Address ^ ((ulong)e.Port << 48);
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27; x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
