using System.Runtime.InteropServices;

namespace Sensor.Capture.Live;

/// <summary>
/// Waiting for packets with a timeout. libpcap's own read timeout does not fire in immediate mode on
/// Linux, so a quiet link would block the capture thread forever (and with it shutdown and idle
/// expiry). The device runs non-blocking and the thread waits in poll(2) on libpcap's selectable
/// descriptor, bounded by a timeout, only when nothing is ready.
/// </summary>
internal static unsafe class PcapWait
{
    private static readonly delegate* unmanaged<IntPtr, int> GetSelectableFd = Load();

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

    private static delegate* unmanaged<IntPtr, int> Load()
    {
        foreach (var name in new[] { "libpcap.so.1", "libpcap.so.0.8", "libpcap.so" })
        {
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "pcap_get_selectable_fd", out var fn))
                return (delegate* unmanaged<IntPtr, int>)fn;
        }
        return null;
    }
}
