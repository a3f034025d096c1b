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

    /// <summary>Signed distance from the next expected byte: negative is old data, positive a hole.</summary>
    public readonly int DistanceFromNext(TcpSequence sequence) => NextSequence.Difference(sequence);
}
