using Sensor.Core.Flows;
using Sensor.Core.Mail;

namespace Sensor.Core.Detection;

/// <summary>
/// The first bytes of a connection, both directions, in arrival order, kept until the protocol is
/// known and then replayed into its session. Bounded by <see cref="MailFlowClassifier.MaxPrefixPerDirection"/>.
/// Gaps are kept in their place too (a lost greeting must not cost the login that follows), and a
/// direction's first line is looked for after its last gap.
/// </summary>
internal sealed class FlowPrefix
{
    // Starts small and grows to the bound: most connections are classified on a greeting of a few
    // dozen bytes, and tens of thousands of them may be opening at once.
    private const int InitialCapacity = 256;
    private byte[] _bytes = new byte[InitialCapacity];
    // Length 0 with Gap > 0 marks bytes that were lost.
    private readonly List<(StreamDirection Direction, int Offset, int Length, long Time, long Gap)> _chunks = new(2);
    private int _clientBytes, _serverBytes;
    private int _length;

    /// <returns>How many bytes of <paramref name="data"/> were kept (fewer once the direction's budget is spent).</returns>
    public int Add(StreamDirection direction, ReadOnlySpan<byte> data, long time)
    {
        ref int used = ref direction == StreamDirection.ClientToServer ? ref _clientBytes : ref _serverBytes;
        int room = MailFlowClassifier.MaxPrefixPerDirection - used;
        int n = Math.Min(room, data.Length);
        if (n > 0)
        {
            if (_length + n > _bytes.Length)
            {
                var grown = new byte[Math.Min(Math.Max(_bytes.Length * 2, _length + n), MailFlowClassifier.MaxPrefixPerDirection * 2)];
                _bytes.AsSpan(0, _length).CopyTo(grown);
                _bytes = grown;
            }
            data[..n].CopyTo(_bytes.AsSpan(_length));
            _chunks.Add((direction, _length, n, time, 0));
            _length += n;
            used += n;
        }
        return Math.Max(n, 0);
    }

    public void AddGap(StreamDirection direction, long skipped, long time) => _chunks.Add((direction, _length, 0, time, skipped));

    /// <summary>The first line of one direction after its last gap, if its line end has arrived.</summary>
    public bool TryFirstLine(StreamDirection direction, out ReadOnlySpan<byte> line)
    {
        // Directions interleave in _bytes; gather this direction's bytes up to the first LF.
        line = default;
        int total = 0;
        int from = 0;
        for (int i = 0; i < _chunks.Count; i++)
            if (_chunks[i].Direction == direction && _chunks[i].Gap > 0) from = i + 1;
        for (int i = from; i < _chunks.Count; i++)
        {
            var c = _chunks[i];
            if (c.Direction != direction) continue;
            var chunk = _bytes.AsSpan(c.Offset, c.Length);
            int lf = chunk.IndexOf((byte)'\n');
            if (total == 0 && lf >= 0)
            {
                line = TrimCr(chunk[..lf]);
                return true;
            }
            if (lf >= 0)
            {
                var joined = new byte[total + lf];
                Gather(direction, from, joined, total);
                chunk[..lf].CopyTo(joined.AsSpan(total));
                line = TrimCr(joined);
                return true;
            }
            total += c.Length;
        }
        return false;
    }

    private void Gather(StreamDirection direction, int from, byte[] into, int count)
    {
        int at = 0;
        for (int i = from; i < _chunks.Count; i++)
        {
            var c = _chunks[i];
            if (c.Direction != direction || at >= count) continue;
            int n = Math.Min(c.Length, count - at);
            _bytes.AsSpan(c.Offset, n).CopyTo(into.AsSpan(at));
            at += n;
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> s) => !s.IsEmpty && s[^1] == (byte)'\r' ? s[..^1] : s;

    public void SwapDirections()
    {
        (_clientBytes, _serverBytes) = (_serverBytes, _clientBytes);
        for (int i = 0; i < _chunks.Count; i++)
        {
            var c = _chunks[i];
            c.Direction = c.Direction == StreamDirection.ClientToServer ? StreamDirection.ServerToClient : StreamDirection.ClientToServer;
            _chunks[i] = c;
        }
    }

    public bool Replay(MailSession session)
    {
        foreach (var c in _chunks)
        {
            if (c.Gap > 0) session.OnGap(c.Direction, c.Gap, c.Time);
            else if (!session.OnData(c.Direction, _bytes.AsSpan(c.Offset, c.Length), c.Time)) return false;
        }
        return true;
    }
}
