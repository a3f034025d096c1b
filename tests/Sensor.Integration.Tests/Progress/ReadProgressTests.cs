using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sensor.Integration.Tests.Progress;

/// <summary>
/// `sensor read`'s progress line, seen the way a user sees it: the real executable with its stderr on a
/// real pseudo-terminal (Python's pty module, <c>under-pty.py</c> beside this file), reading a capture
/// large enough to take a few seconds; and the same read with stderr on a pipe, where nothing may appear.
/// </summary>
public sealed partial class ReadProgressTests(ReadProgressTests.LargeCapture capture) : IClassFixture<ReadProgressTests.LargeCapture>
{
    /// <summary>
    /// A classic pcap of 2.5 million 60-byte TCP SYNs to port 143 from as many clients (190 MB): cheap
    /// to write, and, a new connection a packet through the whole pipeline, a read of a few seconds.
    /// </summary>
    public sealed class LargeCapture : IDisposable
    {
        public const int Records = 2_500_000;
        private readonly string _dir = Directory.CreateTempSubdirectory("sensor-progress-").FullName;

        public string Path { get; }
        public long Size => new FileInfo(Path).Length;

        public LargeCapture()
        {
            Path = System.IO.Path.Combine(_dir, "syns.pcap");
            var frame = new byte[60];
            new byte[] { 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00 }.CopyTo(frame, 0);
            new byte[] { 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 }.CopyTo(frame, 14);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), 40000);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), 143);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(38), 1000);
            frame[46] = 0x50; // data offset 5 words
            frame[47] = 0x02; // SYN
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(48), 65535);
            var record = new byte[16 + frame.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(0), 1_600_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), (uint)frame.Length);
            frame.CopyTo(record, 16);
            using var file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            Span<byte> header = stackalloc byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2c3d4);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1); // Ethernet
            file.Write(header);
            for (int i = 0; i < Records; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)(i % 1_000_000)); // microseconds
                // Each SYN from a client of its own, so each is a new connection to track (and, past the
                // flow bound, one to evict): enough work per packet that the read lasts over a second on
                // a fast machine too (copies of one SYN took 0.6 s, too short for two redraws).
                BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(16 + 26), 0x0A000000u | (uint)(i >> 8));
                BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(16 + 34), (ushort)(40000 + (i & 0xFF)));
                file.Write(record);
            }
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }

    private sealed record TerminalOutput(int Exit, double Seconds, List<(double At, string Text)> Chunks)
    {
        public string All => string.Concat(Chunks.Select(c => c.Text));
    }

    private static TerminalOutput RunOnTerminal(params string[] args)
    {
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "tests", "Sensor.Integration.Tests", "Progress", "under-pty.py"));
        psi.ArgumentList.Add(RepoPaths.SensorExecutable);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("sensor under a pty did not finish");
        }
        Assert.True(p.ExitCode == 0, "under-pty.py failed: " + stderr.Result);
        using var doc = JsonDocument.Parse(stdout.Result);
        var root = doc.RootElement;
        return new TerminalOutput(root.GetProperty("exit").GetInt32(), root.GetProperty("seconds").GetDouble(),
            root.GetProperty("chunks").EnumerateArray().Select(c => (c[0].GetDouble(), c[1].GetString()!)).ToList());
    }

    [GeneratedRegex(@"^reading (?<done>\d+(\.\d)?) (KiB|MiB|GiB) of (?<total>\d+(\.\d)?) (MiB|GiB) \((?<percent>\d+) %\), \d+(\.\d)? (KiB|MiB|GiB)/s, (\d+:)?\d+:\d\d left\e\[K\r$")]
    private static partial Regex Redraw();

    private static string Mib(long bytes) => (bytes / (double)(1L << 20)).ToString("0", CultureInfo.InvariantCulture);

    [Fact]
    public void ALongReadOnATerminalRedrawsOneLineAtMostFourTimesASecondAndErasesItAtTheEnd()
    {
        var run = RunOnTerminal("read", "--no-summary", "--threads", "1", capture.Path);
        Assert.Equal(0, run.Exit);

        // Each redraw is one write: the line, erase-to-end, carriage return; at the end one erase.
        const string erase = "\r\u001b[K";
        Assert.EndsWith(erase, run.All);
        var lines = run.All[..^erase.Length].Split('\r', StringSplitOptions.RemoveEmptyEntries).Select(l => l + "\r").ToList();
        // When each arrived: the read that brought its end.
        var redraws = run.Chunks.SelectMany(c => Enumerable.Repeat(c.At, c.Text.Replace(erase, "").Count(ch => ch == '\r')))
            .Zip(lines, (at, text) => (At: at, Text: text)).ToList();
        Assert.Equal(lines.Count, redraws.Count);
        Assert.True(redraws.Count >= 2, $"expected at least two redraws in a {run.Seconds:0.0} s read, got {redraws.Count}: {run.All}");
        var percents = new List<int>();
        foreach (var (_, text) in redraws)
        {
            var m = Redraw().Match(text);
            Assert.True(m.Success, "not one progress line: " + JsonSerializer.Serialize(text));
            Assert.Equal(Mib(capture.Size), m.Groups["total"].Value);
            percents.Add(int.Parse(m.Groups["percent"].Value, CultureInfo.InvariantCulture));
        }
        Assert.Equal(percents.Order(), percents); // it only moves forward
        Assert.True(percents[^1] > percents[0], "the share never moved: " + string.Join(",", percents));
        Assert.All(percents, p => Assert.InRange(p, 0, 100));

        // At most four a second. Arrival times carry the reader's scheduling jitter (this machine is
        // shared), so: redraws that arrived in separate reads at least half a period apart, no five of
        // them within 0.9 s, and no more in all than four for each second the read took (plus one).
        // A limiter that let redraws through in bursts fails the last check even when a burst arrives
        // in a single read.
        for (int i = 1; i < redraws.Count; i++)
            if (redraws[i].At != redraws[i - 1].At)
                Assert.True(redraws[i].At - redraws[i - 1].At >= 0.125, $"redraws {i - 1} and {i} only {redraws[i].At - redraws[i - 1].At:0.000} s apart");
        for (int i = 4; i < redraws.Count; i++)
            Assert.True(redraws[i].At - redraws[i - 4].At >= 0.9, $"five redraws within {redraws[i].At - redraws[i - 4].At:0.000} s");
        Assert.True(redraws.Count <= (run.Seconds * 4) + 1, $"{redraws.Count} redraws in {run.Seconds:0.00} s");
    }

    [Fact]
    public void ALongReadWithStderrOnAPipeWritesNoProgress()
    {
        var run = SensorProcess.Run("read", "--no-summary", "--threads", "1", capture.Path);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.StdErr); // no carriage return, no escape, not a byte
    }

    [Fact]
    public void ASmallReadOnATerminalWritesNoProgress()
    {
        var small = Path.Combine(RepoPaths.Pcaps, "dovecot", "imap-append-fetch.pcap");
        Assert.True(new FileInfo(small).Length < 64 << 20);
        var run = RunOnTerminal("read", "--no-summary", small);
        Assert.Equal(0, run.Exit);
        Assert.Equal("", run.All);
    }
}
