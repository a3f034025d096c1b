using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sensor.Core.Text;

namespace Sensor.Core.Tests.Text;

/// <summary>CRLF framing must not depend on where TCP happened to cut the stream.</summary>
public sealed class LineAssemblerTests
{
    /// <summary>Feeds the chunks in turn and lists what came out: "L:text" per line, "TooLong" per discarded line.</summary>
    private static List<string> Frame(LineAssembler a, IEnumerable<byte[]> chunks)
    {
        var results = new List<string>();
        foreach (var chunk in chunks)
        {
            ReadOnlySpan<byte> data = chunk;
            while (true)
            {
                var status = a.Next(ref data, out var line);
                if (status == LineStatus.NeedMore)
                {
                    Assert.True(data.IsEmpty, "NeedMore left input unconsumed");
                    break;
                }
                results.Add(status == LineStatus.Line ? "L:" + Encoding.Latin1.GetString(line) : "TooLong");
            }
        }
        return results;
    }

    private static IEnumerable<byte[]> CutAt(byte[] input, params int[] cuts)
    {
        int start = 0;
        foreach (var c in cuts.Order()) { yield return input[start..c]; start = c; }
        yield return input[start..];
    }

    private static readonly byte[] MultiLine =
        Encoding.Latin1.GetBytes("a1 LOGIN alice secret\r\nbare lf\n\r\nx\r\r\n\rcr first\r\nlast line\r\n");

    private static readonly string[] MultiLineExpected =
        ["L:a1 LOGIN alice secret", "L:bare lf", "L:", "L:x\r", "L:\rcr first", "L:last line"];

    [Fact]
    public void EverySplitPointOfAMultiLineInputGivesTheSameLines()
    {
        for (int i = 0; i <= MultiLine.Length; i++)
            Assert.Equal(MultiLineExpected, Frame(new LineAssembler(1024), CutAt(MultiLine, i)));
    }

    [Fact]
    public void EveryPairOfSplitPointsGivesTheSameLines()
    {
        for (int i = 0; i <= MultiLine.Length; i++)
        for (int j = i; j <= MultiLine.Length; j++)
            Assert.Equal(MultiLineExpected, Frame(new LineAssembler(1024), CutAt(MultiLine, i, j)));
    }

    [Fact]
    public void OneByteAtATimeGivesTheSameLines()
    {
        Assert.Equal(MultiLineExpected, Frame(new LineAssembler(1024), MultiLine.Select(b => new[] { b })));
    }

    /// <summary>Lines shorter than the bound, any chunking: the same lines come out, in order.</summary>
    [Property(MaxTest = 300, Replay = "(1234567,7654321)")]
    public Property AnyChunkingOfShortLinesGivesTheSameLines() => Prop.ForAll(ChunkedLines().ToArbitrary(), x =>
    {
        var (lines, input, cuts) = x;
        Assert.Equal(lines.Select(l => "L:" + l), Frame(new LineAssembler(64), CutAt(input, cuts)));
    });

    private static Gen<(string[] Lines, byte[] Input, int[] Cuts)> ChunkedLines() =>
        from count in Gen.Choose(0, 12)
        from lines in Gen.ArrayOf(Gen.Choose(0, 62).SelectMany(n =>
            Gen.ArrayOf(Gen.Elements("abcXYZ 019{}\"\\*+\t\r".ToCharArray()), n).Select(cs => new string(cs).TrimEnd('\r'))), count)
        from crlf in Gen.ArrayOf(Gen.Elements(true, false), count)
        let input = Encoding.Latin1.GetBytes(string.Concat(lines.Select((l, i) => l + (crlf[i] ? "\r\n" : "\n"))))
        from cuts in Gen.ArrayOf(Gen.Choose(0, input.Length), 6)
        select (lines, input, cuts);

    [Fact]
    public void OverLongLineSplitAcrossChunksIsReportedTooLongOnceAndTheNextLineIsIntact()
    {
        var input = Encoding.ASCII.GetBytes(new string('x', 100) + "\r\nnext line\r\n");
        for (int i = 1; i < 102; i++) // every cut inside the long line or its CRLF
            Assert.Equal(["TooLong", "L:next line"], Frame(new LineAssembler(16), CutAt(input, i)));
        Assert.Equal(["TooLong", "L:next line"], Frame(new LineAssembler(16), input.Select(b => new[] { b })));
    }

    /// <summary>The bound may not depend on whether the long line happened to arrive in one piece.</summary>
    [Fact]
    public void OverLongLineArrivingInOneChunkIsReportedTooLongOnceAndTheNextLineIsIntact()
    {
        var input = Encoding.ASCII.GetBytes(new string('x', 100) + "\r\nnext line\r\n");
        Assert.Equal(["TooLong", "L:next line"], Frame(new LineAssembler(16), [input]));
    }

    /// <summary>A line exactly as long as the bound is kept, wherever the stream is cut (CRLF is not content).</summary>
    [Fact]
    public void LineExactlyAtTheBoundIsKeptAtEverySplitPoint()
    {
        var input = Encoding.ASCII.GetBytes(new string('y', 16) + "\r\nnext\r\n");
        for (int i = 0; i <= input.Length; i++)
            Assert.True(Frame(new LineAssembler(16), CutAt(input, i)) is ["L:yyyyyyyyyyyyyyyy", "L:next"],
                $"cut at {i}: {string.Join(", ", Frame(new LineAssembler(16), CutAt(input, i)))}");
    }

    [Fact]
    public void ResynchronizeDropsAPartialLine()
    {
        var a = new LineAssembler(1024);
        Assert.Empty(Frame(a, [Encoding.ASCII.GetBytes("a1 LOGIN al")]));
        Assert.True(a.HasPartial);

        a.Resynchronize();

        Assert.False(a.HasPartial);
        Assert.Equal(["L:next"], Frame(a, [Encoding.ASCII.GetBytes("ice secret\r\nnext\r\n")]));
    }

    [Fact]
    public void ResynchronizeMidLineSkipsToTheNextLineEndEvenAcrossChunks()
    {
        var a = new LineAssembler(1024);
        Assert.Empty(Frame(a, [Encoding.ASCII.GetBytes("a1 NO")]));
        Assert.False(a.Resynchronize());
        Assert.False(a.AtLineStart);
        Assert.Empty(Frame(a, [Encoding.ASCII.GetBytes("tail of a lost "), Encoding.ASCII.GetBytes("line")]));
        Assert.Equal(["L:a2 NOOP"], Frame(a, [Encoding.ASCII.GetBytes("\r\na2 NOOP\r\n")]));
    }

    [Fact]
    public void AGapAtALineBoundaryCostsNoLine()
    {
        var a = new LineAssembler(1024);
        Assert.Equal(["L:USER alice"], Frame(a, [Encoding.ASCII.GetBytes("USER alice\r\n")]));
        Assert.True(a.Resynchronize());
        Assert.True(a.AtLineStart);
        Assert.Equal(["L:PASS hunter2"], Frame(a, [Encoding.ASCII.GetBytes("PASS hunter2\r\n")]));
    }

    [Fact]
    public void ResynchronizeDuringAnOverLongLineReportsNothingForIt()
    {
        var a = new LineAssembler(8);
        Assert.Empty(Frame(a, [Encoding.ASCII.GetBytes("0123456789abcdef")]));
        a.Resynchronize();
        Assert.Equal(["L:ok"], Frame(a, [Encoding.ASCII.GetBytes("more\r\nok\r\n")]));
    }

    [Fact]
    public void SkipRestOfLineDropsTheLineUpToItsEndUncountedAndFramesTheNextWhole()
    {
        var a = new LineAssembler(64);
        ReadOnlySpan<byte> data = "partial"u8;
        Assert.Equal(LineStatus.NeedMore, a.Next(ref data, out _));
        Assert.True(a.HasPartial);
        a.SkipRestOfLine();
        Assert.False(a.HasPartial);
        Assert.False(a.AtLineStart);
        data = "rest of it, well past the bound of sixty-four bytes that the assembler holds\r\nnext\r\n"u8;
        Assert.Equal(LineStatus.Line, a.Next(ref data, out var line));
        Assert.Equal("next", Encoding.ASCII.GetString(line));
        Assert.True(a.AtLineStart);
    }
}
