using System.Runtime.CompilerServices;
using PacketDotNet;
using Sensor.Capture.Decoding;
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

    public bool Owns(in TcpSegment segment) => Count == 1 || IndexOf(segment, Count) == Index;

    /// <summary>
    /// True when the frame is plain Ethernet/IPv4/TCP (<see cref="FrameDecoder.TryPeekEthernetIpv4Tcp"/>)
    /// of a connection another worker owns: this worker needs only its time, not its decoding.
    /// </summary>
    public bool IsOthers(LinkLayers link, ReadOnlySpan<byte> frame) =>
        Count > 1 && FrameDecoder.TryPeekEthernetIpv4Tcp(link, frame, out var source, out var destination)
        && IndexOf(source, destination, realm: 0, Count) != Index;

    /// <summary>The worker, of <paramref name="count"/>, that owns the segment's connection.</summary>
    /// <remarks>
    /// Every worker of a file read hashes every packet, so this is kept to a few instructions: each
    /// endpoint folded to one word, the two added (the same sum whichever way the packet travels),
    /// one multiply-xorshift round to spread it, and 32 mixed bits scaled to the worker count
    /// (Lemire's multiply-shift range reduction) instead of a 64-bit division.
    /// </remarks>
    public static int IndexOf(in TcpSegment segment, int count) =>
        IndexOf(segment.Source, segment.Destination, segment.Tunnel.Realm, count);

    /// <summary>The same for a connection known by its endpoints and realm (a frame not yet decoded).</summary>
    public static int IndexOf(in IpEndpoint source, in IpEndpoint destination, ulong realm, int count)
    {
        ulong h = Fold(source) + Fold(destination) + realm;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (int)(((h & 0xFFFF_FFFFUL) * (ulong)(uint)count) >> 32);
    }

    /// <summary>Frames that are not TCP (counted, not analysed) belong to the first worker.</summary>
    public bool OwnsNonTcp => Index == 0;

    /// <summary>Address (both halves) and port in one word; the port lands on bits the IPv4-mapped form leaves zero.</summary>
    /// <remarks>The address's halves are read in place: UInt128's shift is a call under Native AOT
    /// (1.2 % of a two-worker read's CPU time in a profile); the values are the same.</remarks>
    private static ulong Fold(in IpEndpoint e)
    {
        UInt128 address = e.Address;
        ref ulong first = ref Unsafe.As<UInt128, ulong>(ref address);
        ulong lower = BitConverter.IsLittleEndian ? first : Unsafe.Add(ref first, 1);
        ulong upper = BitConverter.IsLittleEndian ? Unsafe.Add(ref first, 1) : first;
        return (upper ^ lower ^ ((ulong)e.Port << 48)) * 0x9E3779B97F4A7C15UL;
    }
}
