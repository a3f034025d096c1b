namespace Sensor.Core.Reassembly;

/// <summary>
/// Flows ordered by last activity (packet time), oldest first: expiry and eviction look only at
/// the head. Because the reassembler's clock never goes backwards, moving a touched flow to the
/// tail keeps the list sorted.
/// </summary>
internal sealed class FlowLru
{
    public TcpFlow? Head { get; private set; }
    private TcpFlow? _tail;
    public int Count { get; private set; }

    public void AddLast(TcpFlow f)
    {
        f.List = this;
        f.Prev = _tail;
        f.Next = null;
        if (_tail is null) Head = f; else _tail.Next = f;
        _tail = f;
        Count++;
    }

    public void Remove(TcpFlow f)
    {
        if (f.Prev is null) Head = f.Next; else f.Prev.Next = f.Next;
        if (f.Next is null) _tail = f.Prev; else f.Next.Prev = f.Prev;
        f.Prev = f.Next = null;
        f.List = null;
        Count--;
    }

    public void MoveToEnd(TcpFlow f)
    {
        if (_tail == f) return;
        Remove(f);
        AddLast(f);
    }
}
