using System.Buffers.Binary;
using PacketDotNet;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Xunit;

namespace Sensor.Integration.Tests;

/// <summary>
/// Our classic-pcap reader against libpcap (through SharpPcap), its reference: the same frames, the
/// same wire lengths and timestamps, and damage found at the same record, on every bundled capture
/// and on a few hundred damaged and re-encoded copies of them.
/// </summary>
public sealed class PcapFileReaderReferenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-pcap-ref-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> ClassicCaptures()
    {
        var data = new TheoryData<string>();
        foreach (var name in GoldenCaptureTests.CaptureList())
        {
            if (PcapFileReader.IsClassicPcap(Path.Combine(RepoPaths.Pcaps, name))) data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ClassicCaptures))]
    public void ReadsEveryBundledCaptureExactlyAsLibpcapDoes(string capture) =>
        AssertSameAsLibpcap(Path.Combine(RepoPaths.Pcaps, capture));

    [Fact]
    public void EveryBundledClassicCaptureIsReadByOurReader()
    {
        // Guards the theory above against silently testing nothing.
        Assert.True(ClassicCaptures().Count > 80);
    }

    [Fact]
    public void DamagedFilesStopAtTheSameRecordAsLibpcap()
    {
        var rng = new Random(20261128);
        var sources = new[] { "third-party/pop3.pcap", "crafted/format-pcap-nanosecond.pcap", "crafted/link-sll2.pcap", "dovecot/imap-login-atom.pcap" }
            .Select(p => Path.Combine(RepoPaths.Pcaps, p)).Where(File.Exists).ToArray();
        Assert.True(sources.Length >= 3);
        int damagedSeen = 0;
        for (int i = 0; i < 300; i++)
        {
            var bytes = File.ReadAllBytes(sources[rng.Next(sources.Length)]);
            var records = RecordOffsets(bytes);
            switch (rng.Next(5))
            {
                case 0: // cut anywhere, including inside the file header
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                case 1: // a record's captured length made absurd
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(records[rng.Next(records.Count)] + 8), (uint)rng.Next(262_145, int.MaxValue));
                    break;
                case 2: // a record's captured length made plausible but wrong
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(records[rng.Next(records.Count)] + 8), (uint)rng.Next(0, 70_000));
                    break;
                case 3: // a small snapshot length in the file header: frames are cut to it
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)rng.Next(1, 200));
                    break;
                case 4: // random bytes somewhere past the file header
                    for (int k = rng.Next(1, 8); k > 0; k--) bytes[24 + rng.Next(bytes.Length - 24)] = (byte)rng.Next(256);
                    break;
            }
            var path = Path.Combine(_dir, $"damaged-{i}.pcap");
            File.WriteAllBytes(path, bytes);
            if (!PcapFileReader.IsClassicPcap(path)) continue;
            if (AssertSameAsLibpcap(path)) damagedSeen++;
        }
        Assert.True(damagedSeen > 50, $"only {damagedSeen} variants ended in damage");
    }

    [Fact]
    public void ReadingUpToAnOffsetIsReadingTheFileCutThere()
    {
        // Parallel workers of a file still being written all stop at the length it had at the start.
        var rng = new Random(7);
        var source = Path.Combine(RepoPaths.Pcaps, "third-party/pop3.pcap");
        var bytes = File.ReadAllBytes(source);
        for (int i = 0; i < 40; i++)
        {
            int cut = 24 + rng.Next(bytes.Length - 24);
            var copy = Path.Combine(_dir, $"cut-{i}.pcap");
            File.WriteAllBytes(copy, bytes[..cut]);
            var expected = Read(copy, CaptureFileSource.ReadWithLibpcap);

            using var reader = PcapFileReader.Open(source, endOffset: cut);
            var frames = new List<byte[]>();
            while (reader.Next(out var frame, out _, out _) == PcapReadStatus.Packet) frames.Add(frame.ToArray());
            Assert.Equal(expected.Frames.Count, frames.Count);
            for (int k = 0; k < frames.Count; k++) Assert.Equal(expected.Frames[k].Bytes, frames[k]);
            Assert.Equal(expected.Result.Error is not null, reader.Error is not null);
        }
    }

    [Fact]
    public void RecordsOfTheLargestSizeStraddlingTheReadBufferAreReadAsLibpcapReadsThem()
    {
        // The reader's buffer holds one 256 KiB record and a little more: records of the maximum
        // length, and small ones between them at every alignment, make every record boundary fall
        // somewhere else in it, including a maximal record that begins just before a buffer's end.
        var rng = new Random(384);
        var frames = new List<(byte[] Frame, long TimestampNs)>();
        long ts = 1_700_000_000_000_000_000;
        for (int i = 0; i < 24; i++)
        {
            int length = i % 3 == 2 ? rng.Next(1, 2000) : PcapFileReader.MaxRecordLength - rng.Next(0, 3) * (i % 2);
            var frame = new byte[length];
            rng.NextBytes(frame);
            frames.Add((frame, ts += 1000));
        }
        var path = Path.Combine(_dir, "maximal-records.pcap");
        Decoding.Fragmenter.WritePcap(path, frames);
        AssertSameAsLibpcap(path);
        var ours = Read(path, CaptureFileSource.ReadClassicPcap).Frames;
        Assert.Equal(frames.Count, ours.Count);
    }

    [Fact]
    public void BigEndianFilesAreReadAsLibpcapReadsThem()
    {
        foreach (var name in new[] { "third-party/pop3.pcap", "crafted/format-pcap-nanosecond.pcap" })
        {
            var path = Path.Combine(_dir, Path.GetFileName(name) + ".be.pcap");
            File.WriteAllBytes(path, ToBigEndian(File.ReadAllBytes(Path.Combine(RepoPaths.Pcaps, name))));
            AssertSameAsLibpcap(path);
            Assert.True(Read(path, CaptureFileSource.ReadClassicPcap).Frames.Count > 5);
        }
    }

    [Theory]
    [InlineData(2, 0, true)]
    [InlineData(2, 2, true)]
    [InlineData(2, 2, false)]
    [InlineData(2, 3, true)]
    [InlineData(2, 3, false)]
    [InlineData(2, 4, false)]
    [InlineData(543, 0, true)]
    [InlineData(2, 5, false)]
    [InlineData(2, 16900, false)]
    [InlineData(1, 0, false)]
    [InlineData(3, 0, false)]
    public void SavefileVersionsAndTheirLengthOrderAreReadAsLibpcapReadsThem(int major, int minor, bool lengthsSwapped)
    {
        // Found by fuzzing against libpcap: it reads 2.0-2.4 and DG/UX's 543.0 only, and puts caplen
        // and len back in order for old versions (always before 2.3 and for 543.0, when caplen > len for 2.3).
        var bytes = File.ReadAllBytes(Path.Combine(RepoPaths.Pcaps, "dovecot/imap-login-atom.pcap"));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), (ushort)major);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)minor);
        var records = RecordOffsets(bytes);
        if (lengthsSwapped)
        {
            foreach (int at in records)
            {
                uint cap = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8));
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12));
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8), len + 100); // a len above caplen gives the order away in 2.3
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 12), cap);
            }
        }
        var path = Path.Combine(_dir, $"version-{major}.{minor}-{lengthsSwapped}.pcap");
        File.WriteAllBytes(path, bytes);
        AssertSameAsLibpcap(path);
    }

    /// <returns>Whether the file ended in damage.</returns>
    private static bool AssertSameAsLibpcap(string path)
    {
        var ours = Read(path, CaptureFileSource.ReadClassicPcap);
        var theirs = Read(path, CaptureFileSource.ReadWithLibpcap);
        Assert.Equal(theirs.Result.Opened, ours.Result.Opened);
        Assert.Equal(theirs.Frames.Count, ours.Frames.Count);
        for (int i = 0; i < ours.Frames.Count; i++)
        {
            var (a, b) = (ours.Frames[i], theirs.Frames[i]);
            Assert.True(a.Link == b.Link && a.Wire == b.Wire && a.Ts == b.Ts && a.Bytes.AsSpan().SequenceEqual(b.Bytes),
                $"{Path.GetFileName(path)} record {i}: ours {a.Link}/{a.Bytes.Length}/{a.Wire}/{a.Ts}, libpcap {b.Link}/{b.Bytes.Length}/{b.Wire}/{b.Ts}");
        }
        Assert.Equal(theirs.Result.Error is not null, ours.Result.Error is not null);
        return ours.Result.Error is not null;
    }

    private static (CaptureFileResult Result, List<(LinkLayers Link, byte[] Bytes, int Wire, long Ts)> Frames) Read(
        string path, Func<string, CaptureFileSource.FrameHandler, Func<LinkLayers, bool>, CaptureFileResult> reader)
    {
        var frames = new List<(LinkLayers, byte[], int, long)>();
        var result = reader(path, (link, frame, wire, ts) => frames.Add((link, frame.ToArray(), wire, ts)), FrameDecoder.IsSupported);
        return (result, frames);
    }

    private static List<int> RecordOffsets(byte[] file)
    {
        var offsets = new List<int>();
        for (int at = 24; at + 16 <= file.Length;)
        {
            offsets.Add(at);
            at += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
        }
        return offsets;
    }

    /// <summary>The same capture written by a big-endian machine: every header field byte-swapped.</summary>
    private static byte[] ToBigEndian(byte[] file)
    {
        var be = (byte[])file.Clone();
        void Swap32(int at) => BinaryPrimitives.WriteUInt32BigEndian(be.AsSpan(at), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)));
        void Swap16(int at) => BinaryPrimitives.WriteUInt16BigEndian(be.AsSpan(at), BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at)));
        Swap32(0); Swap16(4); Swap16(6); Swap32(8); Swap32(12); Swap32(16); Swap32(20);
        foreach (int at in RecordOffsets(file)) { Swap32(at); Swap32(at + 4); Swap32(at + 8); Swap32(at + 12); }
        return be;
    }
}
