using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using PacketDotNet;

namespace Sensor.Capture.Files;

public enum PcapReadStatus : byte
{
    Packet,
    EndOfFile,
    /// <summary>The file is damaged from here on (<see cref="PcapFileReader.Error"/> says how); what came before stands.</summary>
    Damaged,
}

/// <summary>
/// Reads classic pcap files (pcap-savefile(5): microsecond or nanosecond, either byte order) with
/// large positional reads into one buffer, handing each frame out as a view of it. Profiling showed
/// libpcap's per-packet path through SharpPcap costing a third of a whole run; this reader does
/// what libpcap's sf-pcap.c does for these files and is checked against it, packet for packet,
/// by <c>PcapFileReaderReferenceTests</c>. pcapng and live capture stay with SharpPcap/libpcap.
/// Positional reads (pread) keep no file position, so several readers can share one file. A stream
/// (stdin, a decompressed .gz) is read sequentially instead, by the same code.
/// </summary>
public sealed class PcapFileReader : IDisposable
{
    // pcap-savefile(5) magic numbers, as read little-endian.
    private const uint MagicMicroseconds = 0xa1b2c3d4;
    private const uint MagicNanoseconds = 0xa1b23c4d;
    private const int FileHeaderLength = 24;
    private const int RecordHeaderLength = 16;
    /// <summary>libpcap's MAXIMUM_SNAPLEN: larger records are corrupt, not big.</summary>
    public const int MaxRecordLength = 262_144;
    /// <summary>
    /// Room for the largest record and then some, but well under this machine's 1 MiB L2 cache: the
    /// bytes a read brings in are parsed while still there, and each worker of a file read has its own.
    /// 1 MiB before; 384 KiB was 3-6 % faster on the 1 GB whole-run capture (five alternating runs,
    /// 1 and 2 threads, 2026-12-01).
    /// </summary>
    private const int BufferLength = MaxRecordLength + (128 << 10);

    /// <summary>Where caplen and len sit in a record header (libpcap's sf-pcap.c lengths_swapped).</summary>
    private enum LengthOrder : byte
    {
        Normal,
        /// <summary>Before 2.3, and DG/UX tcpdump's 543.0: len first, then caplen.</summary>
        Swapped,
        /// <summary>2.3: some writers swapped them, some did not; a caplen above len gives them away.</summary>
        MaybeSwapped,
    }

    private readonly SafeFileHandle? _file;
    private readonly Stream? _stream;
    private readonly bool _swapped;
    private readonly LengthOrder _lengthOrder;
    private readonly long _fractionToNs;
    private readonly byte[] _buffer = new byte[BufferLength];
    private long _bufferFileOffset; // file offset of _buffer[0]
    private int _start, _end;      // unread bytes are _buffer[_start.._end)
    private bool _eof;
    private readonly long _endOffset;

    private PcapFileReader(SafeFileHandle? file, Stream? stream, ReadOnlySpan<byte> header, long endOffset)
    {
        _file = file;
        _stream = stream;
        _endOffset = endOffset;
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        _swapped = magic is not (MagicMicroseconds or MagicNanoseconds);
        uint native = _swapped ? BinaryPrimitives.ReverseEndianness(magic) : magic;
        Nanosecond = native == MagicNanoseconds;
        _fractionToNs = Nanosecond ? 1 : 1000;
        VersionMajor = U16(header[4..]);
        VersionMinor = U16(header[6..]);
        // caplen and len changed places at 2.3; libpcap puts them back (sf-pcap.c).
        _lengthOrder = VersionMajor == 543 || VersionMinor < 3 ? LengthOrder.Swapped
            : VersionMinor == 3 ? LengthOrder.MaybeSwapped
            : LengthOrder.Normal;
        uint snap = U32(header[16..]);
        // A zero or oversized snapshot length means "no limit" to libpcap: use its maximum.
        SnapLength = snap == 0 || snap > MaxRecordLength ? MaxRecordLength : (int)snap;
        // The upper bits of the link-type field carry FCS information (pcap-savefile(5) LT_FCS_*).
        LinkType = LinkTypeToDlt(U32(header[20..]) & 0x03FF_FFFF);
        _bufferFileOffset = FileHeaderLength;
    }

    public LinkLayers LinkType { get; }
    public int SnapLength { get; }
    public bool Nanosecond { get; }
    public ushort VersionMajor { get; }
    public ushort VersionMinor { get; }
    /// <summary>Records handed out so far.</summary>
    public long Packets { get; private set; }
    /// <summary>Why reading stopped early, when it did.</summary>
    public string? Error { get; private set; }

    /// <summary>True when the file starts with a classic pcap magic number (in either byte order).</summary>
    public static bool IsClassicPcap(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        try
        {
            using var f = File.OpenHandle(path);
            if (RandomAccess.Read(f, magic, 0) < 4) return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // let the general reader produce the message
        }
        uint m = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        return m is MagicMicroseconds or MagicNanoseconds
            || BinaryPrimitives.ReverseEndianness(m) is MagicMicroseconds or MagicNanoseconds;
    }

    /// <param name="endOffset">Read no further than this (several readers of a file still being
    /// written must all see the same packets); by default to wherever the file ends.</param>
    /// <exception cref="InvalidDataException">Not a classic pcap file, or its header is damaged.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PcapFileReader Open(string path, long endOffset = long.MaxValue)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        try
        {
            Span<byte> header = stackalloc byte[FileHeaderLength];
            int n = RandomAccess.Read(file, header, 0);
            return Checked(new PcapFileReader(file, null, CheckedHeader(header, n), endOffset));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A classic pcap read from a stream, from its current position on (the caller owns the stream).</summary>
    /// <exception cref="InvalidDataException">Not a classic pcap, or its header is damaged.</exception>
    public static PcapFileReader Open(Stream stream)
    {
        var header = new byte[FileHeaderLength];
        int n = stream.ReadAtLeast(header, FileHeaderLength, throwOnEndOfStream: false);
        return Checked(new PcapFileReader(null, stream, CheckedHeader(header, n), long.MaxValue));
    }

    private static ReadOnlySpan<byte> CheckedHeader(ReadOnlySpan<byte> header, int read)
    {
        if (read < FileHeaderLength)
            throw new InvalidDataException($"truncated dump file; tried to read {FileHeaderLength} file header bytes, only got {read}");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (magic is not (MagicMicroseconds or MagicNanoseconds)
            && BinaryPrimitives.ReverseEndianness(magic) is not (MagicMicroseconds or MagicNanoseconds))
            throw new InvalidDataException("not a classic pcap file");
        return header;
    }

    private static PcapFileReader Checked(PcapFileReader reader)
    {
        // libpcap reads versions 2.0 to 2.4, and 543.0 (DG/UX tcpdump); found by fuzzing against it.
        if (reader.VersionMajor < 2)
            throw new InvalidDataException("archaic pcap savefile format");
        if (!(reader.VersionMajor == 2 && reader.VersionMinor <= 4) && !(reader.VersionMajor == 543 && reader.VersionMinor == 0))
            throw new InvalidDataException($"unsupported pcap savefile version {reader.VersionMajor}.{reader.VersionMinor}");
        return reader;
    }

    /// <summary>
    /// The next record. <paramref name="frame"/> is valid until the next call. Frames longer than the
    /// file's snapshot length are cut to it, as libpcap does.
    /// </summary>
    public PcapReadStatus Next(out ReadOnlySpan<byte> frame, out int wireLength, out long timestampNs)
    {
        frame = default;
        wireLength = 0;
        timestampNs = 0;
        if (Error is not null) return PcapReadStatus.Damaged;

        if (!Fill(RecordHeaderLength))
        {
            int have = _end - _start;
            if (have == 0) return PcapReadStatus.EndOfFile;
            return Damage($"truncated dump file; tried to read {RecordHeaderLength} header bytes, only got {have}");
        }
        var header = _buffer.AsSpan(_start, RecordHeaderLength);
        // struct pcap_timeval holds signed 32-bit fields; libpcap scales microseconds up to nanoseconds.
        long seconds = (int)U32(header);
        long fraction = (int)U32(header[4..]);
        uint capLen = U32(header[8..]);
        uint origLen = U32(header[12..]);
        if (_lengthOrder == LengthOrder.Swapped || (_lengthOrder == LengthOrder.MaybeSwapped && capLen > origLen))
            (capLen, origLen) = (origLen, capLen);
        if (capLen > MaxRecordLength)
            return Damage($"invalid packet capture length {capLen}, bigger than maximum of {MaxRecordLength}");

        int recordLength = RecordHeaderLength + (int)capLen;
        if (!Fill(recordLength))
            return Damage($"truncated dump file; tried to read {capLen} captured bytes, only got {_end - _start - RecordHeaderLength}");

        int keep = Math.Min((int)capLen, SnapLength);
        frame = _buffer.AsSpan(_start + RecordHeaderLength, keep);
        wireLength = (int)Math.Min(origLen, int.MaxValue);
        timestampNs = seconds * 1_000_000_000L + fraction * _fractionToNs;
        _start += recordLength;
        Packets++;
        return PcapReadStatus.Packet;
    }

    /// <summary>Ensures <paramref name="count"/> unread bytes are buffered; false at end of file.</summary>
    private bool Fill(int count)
    {
        if (_end - _start >= count) return true;
        if (_eof) return false;
        // Keep the unread tail, move it to the front, then read as much as fits.
        int tail = _end - _start;
        if (tail > 0) Buffer.BlockCopy(_buffer, _start, _buffer, 0, tail);
        _bufferFileOffset += _start;
        _start = 0;
        _end = tail;
        while (_end < count)
        {
            long at = _bufferFileOffset + _end;
            int room = (int)Math.Min(_buffer.Length - _end, Math.Max(0, _endOffset - at));
            int n = room == 0 ? 0
                : _stream is not null ? _stream.Read(_buffer.AsSpan(_end, room))
                : RandomAccess.Read(_file!, _buffer.AsSpan(_end, room), at);
            if (n == 0)
            {
                _eof = true;
                return false;
            }
            _end += n;
        }
        return true;
    }

    /// <summary>
    /// Files store LINKTYPE_ values, programs see DLT_ values; they differ for a few old types.
    /// libpcap (pcap-common.c linktype_to_dlt) maps LINKTYPE_RAW (101) to the platform's DLT_RAW,
    /// 12 on Linux; the other types we decode are the same in both spaces.
    /// </summary>
    private static LinkLayers LinkTypeToDlt(uint linkType) => linkType == 101 ? (LinkLayers)12 : (LinkLayers)linkType;

    private PcapReadStatus Damage(string message)
    {
        Error = message;
        return PcapReadStatus.Damaged;
    }

    private ushort U16(ReadOnlySpan<byte> b) =>
        _swapped ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private uint U32(ReadOnlySpan<byte> b) =>
        _swapped ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);

    public void Dispose() => _file?.Dispose();
}
