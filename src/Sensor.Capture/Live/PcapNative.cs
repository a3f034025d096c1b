using System.Runtime.InteropServices;

namespace Sensor.Capture.Live;

/// <summary>
/// The libpcap calls SharpPcap does not get right for us, or does not offer, called directly.
/// <list type="bullet">
/// <item>Waiting with a timeout: libpcap's read timeout does not fire in immediate mode on Linux, so
/// a quiet link would block the capture thread forever (and with it shutdown and idle expiry). The
/// device runs non-blocking and the thread waits in poll(2) on libpcap's selectable descriptor,
/// bounded by a timeout, only when nothing is ready.</item>
/// <item>Statistics: SharpPcap 6.3.1 declares struct pcap_stat with pointer-sized fields, but on
/// Linux they are three u_int, so its kernel-drop count reads the wrong bytes and is always 0.</item>
/// <item>Reading the next frame (pcap_next_ex) on the raw handle: SharpPcap's call marshals its
/// SafeHandle per frame, taking and releasing a reference each time (about 4 % of the sensor's CPU in
/// a perf profile at 41,000 packets/s); the capture loop holds one reference for its whole run instead.</item>
/// <item>The capture socket itself (pcap_fileno): joining an AF_PACKET fanout group is a socket
/// option libpcap has no call for (see <see cref="PacketFanout"/>).</item>
/// </list>
/// </summary>
internal static unsafe class PcapNative
{
    private static readonly delegate* unmanaged<IntPtr, int> GetSelectableFd;
    private static readonly delegate* unmanaged<IntPtr, PcapStat*, int> GetStats;
    private static readonly delegate* unmanaged<IntPtr, int> GetFileno;
    private static readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr*, int> GetNextEx;

    /// <summary>struct pcap_stat (pcap/pcap.h): ps_recv, ps_drop, ps_ifdrop, all u_int.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PcapStat
    {
        public uint Received;
        public uint Dropped;
        public uint InterfaceDropped;
        private readonly uint _reserved; // room for platforms that append a field
    }

    static PcapNative()
    {
        foreach (var name in new[] { "libpcap.so.1", "libpcap.so.0.8", "libpcap.so" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "pcap_get_selectable_fd", out var fd))
                GetSelectableFd = (delegate* unmanaged<IntPtr, int>)fd;
            if (NativeLibrary.TryGetExport(lib, "pcap_stats", out var st))
                GetStats = (delegate* unmanaged<IntPtr, PcapStat*, int>)st;
            if (NativeLibrary.TryGetExport(lib, "pcap_fileno", out var fileno))
                GetFileno = (delegate* unmanaged<IntPtr, int>)fileno;
            if (NativeLibrary.TryGetExport(lib, "pcap_next_ex", out var next))
                GetNextEx = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr*, int>)next;
            return;
        }
    }

    /// <summary>pcap_stats on an open handle; false when unavailable or failing.</summary>
    public static bool Stats(SafeHandle pcap, out PcapStat stat)
    {
        stat = default;
        if (GetStats is null) return false;
        fixed (PcapStat* p = &stat) return GetStats(pcap.DangerousGetHandle(), p) == 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    private const short PollIn = 0x001;

    [DllImport("libc", SetLastError = true)]
    private static extern int poll(PollFd* fds, nuint nfds, int timeout);

    /// <summary>True when <see cref="NextEx"/> can be used.</summary>
    public static bool HasNextEx => GetNextEx is not null;

    /// <summary>
    /// pcap_next_ex on a raw pcap_t: 1 a frame, 0 none ready (non-blocking), negative an error. The
    /// caller holds a reference on the handle (SafeHandle.DangerousAddRef) for as long as it reads.
    /// </summary>
    public static int NextEx(IntPtr pcap, IntPtr* header, IntPtr* data) => GetNextEx(pcap, header, data);

    /// <summary>The descriptor libpcap reads from (on Linux its PF_PACKET socket); -1 when unavailable.</summary>
    public static int Fileno(SafeHandle pcap) =>
        GetFileno is null ? -1 : GetFileno(pcap.DangerousGetHandle());

    public static int SelectableFd(SafeHandle pcap) =>
        GetSelectableFd is null ? -1 : GetSelectableFd(pcap.DangerousGetHandle());

    /// <summary>Waits until the descriptor is readable or the timeout passes (EINTR counts as a timeout).</summary>
    public static void Wait(int fd, int timeoutMs)
    {
        if (fd < 0)
        {
            Thread.Sleep(Math.Min(timeoutMs, 10));
            return;
        }
        var p = new PollFd { Fd = fd, Events = PollIn };
        poll(&p, 1, timeoutMs);
    }
}
