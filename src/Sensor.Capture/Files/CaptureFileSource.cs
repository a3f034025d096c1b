using System.Runtime.InteropServices;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Sensor.Capture.Files;

/// <summary>
/// Reads pcap, nanosecond pcap and pcapng files through SharpPcap/libpcap. Packets come straight
/// from libpcap's buffer into one reused array (no per-packet allocation here). A corrupt or
/// truncated file ends with a message, after everything before the damage was handed on.
/// </summary>
public static class CaptureFileSource
{
    /// <summary>Largest frame accepted; libpcap's own maximum snapshot length.</summary>
    public const int MaxFrame = 262_144;

    public delegate void FrameHandler(LinkLayers link, byte[] frame, int length, int wireLength, long timestampNs);

    public static CaptureFileResult Read(string path, FrameHandler onFrame, Func<LinkLayers, bool> linkSupported)
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

            var frame = new byte[MaxFrame];
            long packets = 0;
            IntPtr header = IntPtr.Zero, data = IntPtr.Zero;
            while (true)
            {
                int rc = device.GetNextPacketPointers(ref header, ref data);
                if (rc == 1)
                {
                    ReadHeader(header, out long tsNs, out int capLen, out int wireLen);
                    int n = Math.Min(capLen, MaxFrame);
                    Marshal.Copy(data, frame, 0, n);
                    packets++;
                    onFrame(link, frame, n, wireLen, tsNs);
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
        wireLen = Marshal.ReadInt32(header, 20);
        tsNs = sec * 1_000_000_000L + frac;
    }

    private static string Describe(Exception e) => e switch
    {
        DllNotFoundException => "libpcap is not installed (Debian: apt-get install libpcap0.8)",
        _ => e.Message.Replace("Unable to open offline adapter: ", ""),
    };
}
