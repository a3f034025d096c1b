using System.Buffers;

namespace Sensor.Core.Text;

public enum LineStatus : byte
{
    /// <summary>All input consumed, no complete line yet.</summary>
    NeedMore,
    /// <summary>A complete line (CRLF or bare LF stripped) is in the out parameter.</summary>
    Line,
    /// <summary>A line exceeded the bound; its bytes were discarded up to and including its LF.</summary>
    TooLong,
}

/// <summary>
/// Bounded CRLF framing over a byte stream. A line that arrives whole in one chunk is handed out as a
/// view of the input (no copy); only a line split across chunks is copied, into a pooled buffer that
/// grows to at most <c>maxLineLength</c> and goes back to the pool once the line is complete, so an
/// idle connection holds nothing. Longer lines are discarded and reported, never buffered; with a
/// <see cref="LineBudget"/>, so is a partial line the pipeline-wide budget has no room for.
/// </summary>
public sealed class LineAssembler
{
    private readonly int _maxLineLength;
    private readonly LineBudget? _budget;
    private byte[]? _buffer;
    private int _length;
    private bool _discarding;
    private bool _discardingSilently;

    public LineAssembler(int maxLineLength, LineBudget? budget = null)
    {
        _maxLineLength = maxLineLength;
        _budget = budget;
    }

    /// <summary>True while a partial line is held.</summary>
    public bool HasPartial => _length > 0;

    /// <summary>The next byte handed in starts a line: nothing is held and nothing is being skipped.</summary>
    public bool AtLineStart => _length == 0 && !_discarding;

    /// <summary>
    /// Bytes were lost. When a partial line was held the loss began mid-line: what follows up to the
    /// next line end is the tail of a broken line, dropped without a count. When nothing was held the
    /// loss began at a line boundary and most likely ended at one too (lost segments carry whole
    /// lines far more often than not): the next bytes start a line and no line is spent. Whether
    /// that line can be trusted is the protocol's question, not the framer's.
    /// </summary>
    /// <returns>True when the loss began at a line boundary.</returns>
    public bool Resynchronize()
    {
        bool atBoundary = _length == 0 && !_discarding;
        Release();
        if (!atBoundary) _discarding = _discardingSilently = true;
        return atBoundary;
    }

    /// <summary>
    /// The rest of the current line is of no interest to the caller (it skipped the line's start
    /// itself): whatever is held is dropped, and the bytes up to the next line end are dropped without
    /// a count, as after a gap.
    /// </summary>
    public void SkipRestOfLine()
    {
        Release();
        _discarding = _discardingSilently = true;
    }

    /// <summary>
    /// Takes the next line from <paramref name="data"/>, advancing it past what was consumed.
    /// The returned line is valid until the next call.
    /// </summary>
    public LineStatus Next(ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> line)
    {
        if (_releaseOnNextCall) Release();
        while (true)
        {
            line = default;
            int lf = data.IndexOf((byte)'\n');
            if (lf < 0)
            {
                // One byte of slack: the last byte held may be the CR of a CRLF that is not counted.
                if (!_discarding)
                {
                    if (_length + data.Length > _maxLineLength + 1 || !Append(data))
                    {
                        _discarding = true;
                        _discardingSilently = false;
                        Release();
                    }
                }
                data = default;
                return LineStatus.NeedMore;
            }

            var chunk = data[..lf];
            data = data[(lf + 1)..];
            if (_discarding)
            {
                bool silent = _discardingSilently;
                _discarding = _discardingSilently = false;
                Release();
                if (silent) continue; // resynchronised after a gap: the next line is whole
                return LineStatus.TooLong;
            }

            if (_length == 0)
            {
                line = chunk;
            }
            else
            {
                if (_length + chunk.Length > _maxLineLength + 1 || !Append(chunk))
                {
                    Release();
                    return LineStatus.TooLong;
                }
                // Valid until the next call: the buffer goes back to the pool then, not now.
                line = _buffer.AsSpan(0, _length);
                _length = 0;
                _releaseOnNextCall = true;
            }
            if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
            if (line.Length > _maxLineLength)
            {
                line = default;
                return LineStatus.TooLong;
            }
            return LineStatus.Line;
        }
    }

    private bool _releaseOnNextCall;

    /// <returns>False when the budget has no room for the bigger buffer the line needs.</returns>
    private bool Append(ReadOnlySpan<byte> bytes)
    {
        int needed = _length + bytes.Length;
        if (_buffer is null || _buffer.Length < needed)
        {
            int size = Math.Min(_maxLineLength + 1, Math.Max(needed, (_buffer?.Length ?? 128) * 2));
            var grown = ArrayPool<byte>.Shared.Rent(size);
            if (_budget is not null && !_budget.TryTake(grown.Length - (_buffer?.Length ?? 0)))
            {
                ArrayPool<byte>.Shared.Return(grown);
                return false;
            }
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = grown;
        }
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
        return true;
    }

    /// <summary>Drops the partial line and gives its buffer back to the pool and the budget (the connection ended).</summary>
    public void Release()
    {
        _length = 0;
        _releaseOnNextCall = false;
        if (_buffer is null) return;
        _budget?.Give(_buffer.Length);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }
}
