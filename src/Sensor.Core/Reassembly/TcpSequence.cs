namespace Sensor.Core.Reassembly;

/// <summary>
/// A TCP sequence number: a point on a circle of 2^32 (RFC 9293 §3.4), compared with serial number
/// arithmetic (RFC 1982 §3.2) so the wraparound needs no special case anywhere. Modelled on gopacket's
/// reassembly <c>Sequence</c>.
/// </summary>
/// <remarks>
/// Order is only meaningful between numbers less than 2^31 apart; exactly 2^31 apart, RFC 1982 leaves
/// the comparison undefined and here each number is before the other (the distance is
/// <see cref="int.MinValue"/> both ways). A real connection keeps its window far below that
/// (at most 2^30 with window scaling, RFC 7323 §2.3).
/// </remarks>
internal readonly struct TcpSequence(uint value) : IEquatable<TcpSequence>
{
    public uint Value { get; } = value;

    /// <summary>How far <paramref name="other"/> lies after this number: positive when it is later,
    /// negative when earlier, 0 when equal.</summary>
    public int Difference(TcpSequence other) => (int)(other.Value - Value);

    /// <summary>The number <paramref name="bytes"/> later (earlier when negative), modulo 2^32.</summary>
    public TcpSequence Add(int bytes) => new(Value + (uint)bytes);

    // Each comparison is the sign of the distance from b to a: at the half-window both a < b and b < a.
    public static bool operator <(TcpSequence a, TcpSequence b) => b.Difference(a) < 0;
    public static bool operator >(TcpSequence a, TcpSequence b) => b.Difference(a) > 0;
    public static bool operator <=(TcpSequence a, TcpSequence b) => b.Difference(a) <= 0;
    public static bool operator >=(TcpSequence a, TcpSequence b) => b.Difference(a) >= 0;
    public static bool operator ==(TcpSequence a, TcpSequence b) => a.Value == b.Value;
    public static bool operator !=(TcpSequence a, TcpSequence b) => a.Value != b.Value;

    public bool Equals(TcpSequence other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is TcpSequence other && Equals(other);
    public override int GetHashCode() => (int)Value;
    public override string ToString() => Value.ToString();
}
