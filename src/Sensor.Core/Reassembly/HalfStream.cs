namespace Sensor.Core.Reassembly;

/// <summary>
/// One direction of a connection: where the next in-order byte is expected and what arrived early.
/// Sequence numbers are compared with serial arithmetic (RFC 1982, RFC 9293 §3.4) so that the
/// 2^32 wraparound needs no special case.
/// </summary>
internal struct HalfStream
{
    public bool Started;
    public uint NextSequence;
    public bool FinSeen;
    /// <summary>Sequence number just past the last data byte, from the FIN.</summary>
    public uint FinSequence;
    public List<BufferedSegment>? OutOfOrder;
    public int BufferedBytes;

    public readonly bool HasBuffered => OutOfOrder is { Count: > 0 };

    /// <summary>
    /// Signed distance from the next expected byte: negative is old data, positive a hole. Exactly
    /// half the sequence space away is undefined in serial arithmetic (RFC 1982 §3.2); it counts as
    /// old data, and as -int.MaxValue rather than int.MinValue, whose negation overflows: a single
    /// segment 2^31 away from the expected one used to throw out of the reassembler (found by fuzzing).
    /// </summary>
    public readonly int DistanceFromNext(uint sequence)
    {
        int distance = (int)(sequence - NextSequence);
        return distance == int.MinValue ? -int.MaxValue : distance;
    }
}
