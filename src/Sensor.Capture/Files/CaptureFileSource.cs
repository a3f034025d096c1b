using System.Runtime.InteropServices;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Sensor.Capture.Files;

/// <summary>
/// Reads capture files: classic pcap (microsecond or nanosecond) with <see cref="PcapFileReader"/>,
/// everything else (pcapng) through SharpPcap/libpcap. Frames are handed on as views of the
/// reader's buffer (no per-packet allocation or copy). A corrupt or truncated file ends with a
/// message, after everything before the damage was handed on.
/// </summary>
public static class CaptureFileSource
{
    /// <summary>Largest frame accepted; libpcap's own maximum snapshot length.</summary>
    public const int MaxFrame = PcapFileReader.MaxRecordLength;

    /// <param name="frame">Valid only during the call.</param>
    public delegate void FrameHandler(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs);

    public static CaptureFileResult Read(string path, FrameHandler onFrame, Func<LinkLayers, bool> linkSupported) =>
        PcapFileReader.IsClassicPcap(path)
            ? ReadClassicPcap(path, onFrame, linkSupported)
            : ReadWithLibpcap(path, onFrame, linkSupported);

    public static CaptureFileResult ReadClassicPcap(string path, FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        PcapFileReader reader;
        try
        {
            reader = PcapFileReader.Open(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return new CaptureFileResult(path, false, 0, e.Message, -1);
        }
        return ReadRecords(path, reader, onFrame, linkSupported);
    }

    /// <summary>
    /// Hands on every record of an opened classic pcap (a file, or a stream such as stdin or a
    /// decompressed .gz), then disposes of the reader.
    /// </summary>
    internal static CaptureFileResult ReadRecords(string path, PcapFileReader reader, FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        using (reader)
        {
            var link = reader.LinkType;
            if (!linkSupported(link))
                return new CaptureFileResult(path, false, 0, $"unsupported link type {(int)link} ({link})", (int)link);
            while (true)
            {
                PcapReadStatus status;
                ReadOnlySpan<byte> frame;
                int wireLength;
                long ts;
                try
                {
                    status = reader.Next(out frame, out wireLength, out ts);
                }
                catch (Exception e) when (e is IOException or InvalidDataException)
                {
                    // The input itself failed (a read error, damaged gzip data); the output's own
                    // errors pass through to the caller. What came before stands.
                    return new CaptureFileResult(path, true, reader.Packets, e.Message, (int)link);
                }
                if (status != PcapReadStatus.Packet)
                    return new CaptureFileResult(path, true, reader.Packets, reader.Error, (int)link);
                onFrame(link, frame, wireLength, ts);
            }
        }
    }

    /// <summary>Any format libpcap reads; also the reference <see cref="PcapFileReader"/> is tested against.</summary>
    public static unsafe CaptureFileResult ReadWithLibpcap(string path, FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
    {
        CaptureFileReaderDevice device;
        try
        {
            device = new CaptureFileReaderDevice(path);
            // Nanosecond resolution: libpcap scales microsecond files up, so one clock for all files.
            device.Open(new DeviceConfiguration { TimestampResolution = TimestampResolution.Nanosecond });
        }
        catch (Exception e) when (e is PcapException or DllNotFoundException or IOException or UnauthorizedAccessException)
        {
            return new CaptureFileResult(path, false, 0, Describe(e), -1);
        }

        using (device)
        {
            var link = device.LinkType;
            if (!linkSupported(link))
                return new CaptureFileResult(path, false, 0, $"unsupported link type {(int)link} ({link})", (int)link);

            long packets = 0;
            IntPtr header = IntPtr.Zero, data = IntPtr.Zero;
            while (true)
            {
                int rc = device.GetNextPacketPointers(ref header, ref data);
                if (rc == 1)
                {
                    ReadHeader(header, out long tsNs, out int capLen, out int wireLen);
                    packets++;
                    onFrame(link, new ReadOnlySpan<byte>((void*)data, Math.Min(capLen, MaxFrame)), wireLen, tsNs);
                    continue;
                }
                if (rc == -2) return new CaptureFileResult(path, true, packets, null, (int)link); // end of file
                // -1: libpcap read error (truncated record, bad record length, I/O error).
                return new CaptureFileResult(path, true, packets, device.LastError, (int)link);
            }
        }
    }

    /// <summary>
    /// struct pcap_pkthdr on 64-bit Linux: struct timeval (two longs), caplen, len. With nanosecond
    /// precision tv_usec holds nanoseconds.
    /// </summary>
    internal static void ReadHeader(IntPtr header, out long tsNs, out int capLen, out int wireLen)
    {
        long sec = Marshal.ReadInt64(header);
        long frac = Marshal.ReadInt64(header, 8);
        capLen = Marshal.ReadInt32(header, 16);
        wireLen = (int)Math.Min((uint)Marshal.ReadInt32(header, 20), int.MaxValue); // u_int: a corrupt value must not go negative
        tsNs = sec * 1_000_000_000L + frac;
    }

    private static string Describe(Exception e) => e switch
    {
        DllNotFoundException => "libpcap is not installed (Debian: apt-get install libpcap0.8)",
        _ => e.Message.Replace("Unable to open offline adapter: ", ""),
    };
}
