using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using PacketDotNet;

namespace Sensor.Capture.Files;

/// <summary>
/// Captures that are not plain files on disk: standard input (`sensor read -`, after `tcpdump -w -`
/// or `dumpcap -w -`) and gzip'ed captures (`x.pcap.gz`, also on stdin), recognised by their magic
/// bytes, not their names. A classic pcap is read by <see cref="PcapFileReader"/> straight from the
/// stream. libpcap only reads pcapng from a file it opens itself, so a pcapng stream is handed to it
/// through a named pipe the sensor creates (and removes) in a private temporary folder: nothing is
/// written to disk, whatever the capture's size.
/// </summary>
public static class CaptureStreamSource
{
    public const string StandardInput = "-";
    private const string DamagedGzip = "damaged gzip data (corrupt or cut short)";
    private static readonly byte[] GzipMagic = [0x1f, 0x8b];

    /// <summary>Whether the file at <paramref name="path"/> holds gzip content and must be read through this source
    /// (standard input and pipes come here through <see cref="OpenIfStream"/>).</summary>
    public static bool Handles(string path)
    {
        Span<byte> magic = stackalloc byte[2];
        try
        {
            using var f = File.OpenHandle(path);
            return RandomAccess.Read(f, magic, 0) == 2 && magic.SequenceEqual(GzipMagic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the file reader gives the message
        }
    }

    /// <summary>
    /// <paramref name="path"/> opened, when it is a stream rather than a file: standard input, or a
    /// path that cannot seek (a named pipe, a shell's <c>&lt;(tcpdump -w -)</c>, a character device).
    /// Null for a file the file readers can open themselves and read at offsets. A named pipe is opened
    /// once only and the stream handed on: opening it again to look at its first bytes would take them
    /// from the reader, and closing the first open would end the writer's pipe.
    /// </summary>
    /// <exception cref="IOException">It cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static Stream? OpenIfStream(string path)
    {
        if (path == StandardInput) return Console.OpenStandardInput(1 << 16);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        if (!file.CanSeek) return file;
        file.Dispose();
        return null;
    }

    public static CaptureFileResult Read(string path, CaptureFileSource.FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        Stream input;
        try
        {
            input = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CaptureFileResult(path, false, 0, e.Message, -1);
        }
        return Read(path, input, onFrame, linkSupported);
    }

    /// <summary>Reads <paramref name="input"/> to its end (a classic pcap, pcapng, either gzip'ed) and disposes of it.</summary>
    public static CaptureFileResult Read(string path, Stream input, CaptureFileSource.FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        using (input)
        {
            try
            {
                var (content, first) = Sniff(input);
                if (first.Length >= 2 && first.AsSpan(0, 2).SequenceEqual(GzipMagic))
                {
                    // A gzip'ed capture (on stdin or in a file): look again inside.
                    using var inflated = new GzipInput(new GZipStream(content, CompressionMode.Decompress));
                    var (inner, innerFirst) = Sniff(inflated);
                    return ReadContent(path, inner, innerFirst, onFrame, linkSupported);
                }
                return ReadContent(path, content, first, onFrame, linkSupported);
            }
            catch (InvalidDataException)
            {
                // A damaged gzip stream: what was decompressed before it stands, as for a damaged file.
                // (.NET's own text says "unsupported compression method" for any corrupt deflate data.)
                return new CaptureFileResult(path, false, 0, DamagedGzip, -1);
            }
            catch (IOException e)
            {
                // Before the first bytes (standard input is a folder, a read error): nothing was analysed.
                return new CaptureFileResult(path, false, 0, e.Message, -1);
            }
        }
    }

    private static CaptureFileResult ReadContent(string path, Stream content, byte[] first, CaptureFileSource.FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        if (first.Length < 4)
            return new CaptureFileResult(path, false, 0, first.Length == 0 ? "empty input" : "truncated dump file", -1);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(first);
        bool classic = magic is 0xa1b2c3d4 or 0xa1b23c4d || BinaryPrimitives.ReverseEndianness(magic) is 0xa1b2c3d4 or 0xa1b23c4d;
        return classic ? ReadClassic(path, content, onFrame, linkSupported) : ReadThroughLibpcap(path, content, onFrame, linkSupported);
    }

    private static CaptureFileResult ReadClassic(string path, Stream content, CaptureFileSource.FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        PcapFileReader reader;
        try
        {
            reader = PcapFileReader.Open(content);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return new CaptureFileResult(path, false, 0, e.Message, -1);
        }
        return CaptureFileSource.ReadRecords(path, reader, onFrame, linkSupported);
    }

    /// <summary>pcapng (or anything else libpcap may know) through a named pipe libpcap opens as a file.</summary>
    private static CaptureFileResult ReadThroughLibpcap(string path, Stream content, CaptureFileSource.FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        var dir = Directory.CreateTempSubdirectory("sensor-input-");
        var fifo = Path.Combine(dir.FullName, "capture");
        try
        {
            if (mkfifo(fifo, 0x180 /* 0600 */) != 0)
                return new CaptureFileResult(path, false, 0, "cannot create a pipe for libpcap: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()), -1);
            string? feedError = null;
            var feeder = new Thread(() =>
            {
                var chunk = new byte[1 << 16];
                try
                {
                    using var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.Read, 1);
                    while (true)
                    {
                        int n;
                        try { n = content.Read(chunk); }
                        catch (Exception e) when (e is IOException or InvalidDataException)
                        {
                            // The input failed (a read error, damaged gzip data): what came before stands.
                            feedError = e is InvalidDataException ? DamagedGzip : e.Message;
                            return;
                        }
                        if (n == 0) return;
                        pipe.Write(chunk, 0, n);
                    }
                }
                catch (IOException)
                {
                    // libpcap stopped reading (a damaged capture ends its read early): it says why.
                }
            }) { IsBackground = true, Name = "capture stream feeder" };
            feeder.Start();
            var result = CaptureFileSource.ReadWithLibpcap(fifo, onFrame, linkSupported);
            if (feeder.IsAlive)
            {
                // libpcap gave up before reading everything (or never opened the pipe): release the feeder.
                try { using var drain = new FileStream(fifo, FileMode.Open, FileAccess.Read); } catch (IOException) { }
                feeder.Join(TimeSpan.FromSeconds(5));
            }
            var error = result.Error ?? feedError;
            return result with { Path = path, Error = error?.Replace(fifo, path) };
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The first bytes of <paramref name="input"/>, and a stream that still yields them.</summary>
    private static (Stream Content, byte[] First) Sniff(Stream input)
    {
        var first = new byte[4];
        int n = input.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
        Array.Resize(ref first, n);
        return (new PrefixedStream(first, input), first);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    /// <summary>
    /// A gzip stream whose corrupt data is an <see cref="IOException"/> that says so: .NET's own
    /// <see cref="InvalidDataException"/> says "unsupported compression method" for any corrupt deflate
    /// data, and the pcap reader would pass that on as the reason a capture could not be read.
    /// </summary>
    private sealed class GzipInput(GZipStream gzip) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            try { return gzip.Read(buffer); }
            catch (InvalidDataException e) { throw new IOException(DamagedGzip, e); }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) gzip.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Bytes already read, then the rest of the stream: sniffing must not lose the start.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyStream
    {
        private int _at;

        public override int Read(Span<byte> buffer)
        {
            if (_at < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _at);
                prefix.AsSpan(_at, n).CopyTo(buffer);
                _at += n;
                return n;
            }
            return rest.Read(buffer);
        }
    }

    /// <summary>What the two streams above share: read forward only, nothing else.</summary>
    private abstract class ReadOnlyStream : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public abstract override int Read(Span<byte> buffer);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
