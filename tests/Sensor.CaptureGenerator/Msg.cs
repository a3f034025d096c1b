using System.Text;

namespace Sensor.CaptureGenerator;

/// <summary>
/// One application message (one side's bytes between two turns of the conversation), made of up
/// to three parts so that a large shared body can be sent between a small prefix and suffix
/// without copying it per session.
/// </summary>
internal sealed class Msg
{
    public readonly bool FromClient;
    public readonly ReadOnlyMemory<byte> P0, P1, P2;
    public readonly int Length;
    /// <summary>Microseconds between the previous packet of the flow and this message's first segment; 0 = the flow decides.</summary>
    public int DelayUs;

    public Msg(bool fromClient, ReadOnlyMemory<byte> p0, ReadOnlyMemory<byte> p1 = default, ReadOnlyMemory<byte> p2 = default)
    {
        FromClient = fromClient;
        P0 = p0;
        P1 = p1;
        P2 = p2;
        Length = p0.Length + p1.Length + p2.Length;
    }

    public static Msg Text(bool fromClient, string ascii) => new(fromClient, Encoding.ASCII.GetBytes(ascii));

    /// <summary>Copies bytes [offset, offset + dst.Length) of the message into dst.</summary>
    public void CopyTo(int offset, Span<byte> dst)
    {
        int done = 0;
        done += CopyPart(P0.Span, ref offset, dst[done..]);
        if (done < dst.Length) done += CopyPart(P1.Span, ref offset, dst[done..]);
        if (done < dst.Length) CopyPart(P2.Span, ref offset, dst[done..]);
    }

    private static int CopyPart(ReadOnlySpan<byte> part, ref int offset, Span<byte> dst)
    {
        if (offset >= part.Length) { offset -= part.Length; return 0; }
        int n = Math.Min(part.Length - offset, dst.Length);
        part.Slice(offset, n).CopyTo(dst);
        offset = 0;
        return n;
    }
}
