namespace Sensor.Core.Reassembly;

/// <summary>
/// One direction of a connection: where the next in-order byte is expected and what arrived early.
/// </summary>
internal struct HalfStream
{
    public bool Started;
    public TcpSequence NextSequence;
    public bool FinSeen;
    /// <summary>Sequence number just past the last data byte, from the FIN.</summary>
    public TcpSequence FinSequence;
    public List<BufferedSegment>? OutOfOrder;
    public int BufferedBytes;
    /// <summary>The highest acknowledgment of bytes not yet delivered that was reported (see IStreamConsumer).</summary>
    public TcpSequence UnseenAckReported;
    public bool UnseenAckReportedSet;

    public readonly bool HasBuffered => OutOfOrder is { Count: > 0 };

    /// <summary>
    /// Signed distance from the next expected byte: negative is old data, positive a hole. Exactly
    /// half the sequence space away is undefined in serial arithmetic (RFC 1982 §3.2); it counts as
    /// old data, and as -int.MaxValue rather than int.MinValue, whose negation overflows: a single
    /// segment 2^31 away from the expected one used to throw out of the reassembler (found by fuzzing).
    /// </summary>
    public readonly int DistanceFromNext(TcpSequence sequence)
    {
        int distance = NextSequence.Difference(sequence);
        return distance == int.MinValue ? -int.MaxValue : distance;
    }
}
