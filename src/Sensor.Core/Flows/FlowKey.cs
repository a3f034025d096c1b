using System.Runtime.CompilerServices;

namespace Sensor.Core.Flows;

/// <summary>
/// Direction-free identity of a TCP connection: the two endpoints in a canonical order, so that
/// both directions of a connection find the same flow, and the realm of the tenant network it
/// arrived in (<see cref="Encapsulation.Realm"/>, 0 for plain traffic), so that two VXLAN networks
/// or VLANs using the same addresses are two connections.
/// </summary>
public readonly record struct FlowKey
{
    public IpEndpoint Low { get; }
    public IpEndpoint High { get; }

    public ulong Realm { get; }

    public FlowKey(IpEndpoint a, IpEndpoint b, ulong realm = 0)
    {
        Realm = realm;
        bool aFirst = a.Address < b.Address || (a.Address == b.Address && a.Port <= b.Port);
        Low = aFirst ? a : b;
        High = aFirst ? b : a;
    }

    /// <summary>
    /// A keyed multiply-xorshift hash: starting from a per-process random key, each word (each
    /// address's two halves, both ports packed, the realm) is xor-ed in, multiplied by an odd constant
    /// and folded, so addresses crafted without the key cannot aim at one bucket (not a cryptographic guarantee, as
    /// HashCode's is not either; the flow table stays bounded whatever the spread). It replaced
    /// one <see cref="HashCode"/> round over six values (126 instructions a lookup, the UInt128 shifts
    /// being calls under Native AOT); a 128-bit multiply was no better, Native AOT's baseline x64
    /// having no MULX (callgrind, docs/performance.md). FlowKeyTests checks the spread.
    /// </summary>
    public override int GetHashCode()
    {
        var (lowLo, lowHi) = Halves(Low.Address);
        var (highLo, highHi) = Halves(High.Address);
        ulong h = Round(Key, lowLo);
        h = Round(h, lowHi);
        h = Round(h, highLo);
        h = Round(h, highHi);
        h = Round(h, (ulong)Low.Port << 16 | High.Port);
        h = Round(h, Realm);
        h *= 0xBF58476D1CE4E5B9UL;
        return (int)(h ^ (h >> 32));
    }

    /// <summary>From the runtime's own random source, as <see cref="HashCode"/>'s seed (not the
    /// cryptographic one: loading OpenSSL cost some 10 M instructions of start-up).</summary>
    private static readonly ulong Key = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong h, ulong word)
    {
        h = (h ^ word) * 0x9E3779B97F4A7C15UL;
        return h ^ (h >> 29);
    }

    /// <summary>The address's halves read in place (UInt128's shift is a call under Native AOT).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong Low, ulong High) Halves(UInt128 address)
    {
        ref ulong first = ref Unsafe.As<UInt128, ulong>(ref address);
        ulong second = Unsafe.Add(ref first, 1);
        return BitConverter.IsLittleEndian ? (first, second) : (second, first);
    }
}
