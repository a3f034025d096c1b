using System.Text;
using BenchmarkDotNet.Attributes;
using Sensor.Core.Text;

namespace Sensor.Benchmarks;

/// <summary>
/// (b) <see cref="LineAssembler.Next"/> over 64 KiB of CRLF lines (mail-body-like: mostly 60-78
/// characters, some short, some empty) delivered in chunks of random size 1..MaxChunk, as TCP
/// segments cut a stream. Reported per 64 KiB buffer.
/// </summary>
[MemoryDiagnoser]
public class LineAssemblerBenchmarks
{
    public const int BufferBytes = 64 * 1024;

    /// <summary>1448: an Ethernet MSS with TCP timestamps; 64: small writes (interactive clients).</summary>
    [Params(1448, 64)]
    public int MaxChunk;

    private byte[] _buffer = [];
    private int[] _chunkEnds = [];
    private readonly LineAssembler _lines = new(16 * 1024);
    private int _lineCount;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        var sb = new StringBuilder(BufferBytes);
        while (true)
        {
            int len = rng.Next(10) switch { 0 => 0, 1 or 2 => rng.Next(1, 20), _ => rng.Next(60, 79) };
            if (sb.Length + len + 2 > BufferBytes - 2) break;
            for (int i = 0; i < len; i++) sb.Append((char)rng.Next(0x20, 0x7F));
            sb.Append("\r\n");
            _lineCount++;
        }
        sb.Append('x', BufferBytes - 2 - sb.Length).Append("\r\n"); // exactly 64 KiB, ends with CRLF
        _lineCount++;
        _buffer = Encoding.ASCII.GetBytes(sb.ToString());

        var ends = new List<int>();
        for (int at = 0; at < _buffer.Length;)
        {
            at = Math.Min(_buffer.Length, at + rng.Next(1, MaxChunk + 1));
            ends.Add(at);
        }
        _chunkEnds = ends.ToArray();
        var (lines, _) = Run();
        if (lines != _lineCount) throw new InvalidOperationException($"framed {lines} lines, wrote {_lineCount}");
    }

    [Benchmark(Description = "LineAssembler.Next, per 64 KiB buffer")]
    public long Next() => Run().Bytes;

    private (int Lines, long Bytes) Run()
    {
        int lines = 0;
        long bytes = 0;
        int start = 0;
        var assembler = _lines;
        foreach (int end in _chunkEnds)
        {
            ReadOnlySpan<byte> data = _buffer.AsSpan(start, end - start);
            start = end;
            while (true)
            {
                var status = assembler.Next(ref data, out var line);
                if (status == LineStatus.NeedMore) break;
                lines++;
                bytes += line.Length;
            }
        }
        return (lines, bytes);
    }
}
