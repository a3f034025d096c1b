using System.Runtime.InteropServices;

namespace Sensor.Capture.Live;

/// <summary>
/// Joins libpcap's capture socket to an AF_PACKET fanout group, so that several sensor processes
/// share one interface, each seeing whole connections (packet(7), PACKET_FANOUT). libpcap has no
/// call for it: after activation the option is set on its socket (pcap_fileno).
/// <para>Only PACKET_FANOUT_HASH keeps a connection in one process: since Linux 4.7 (commit
/// eb70db875671, "packet: Use symmetric hash for PACKET_FANOUT_HASH") its hash is the flow
/// dissector's symmetric hash over protocol, addresses and ports, so both directions land on the
/// same socket. Round-robin, random and rollover split connections; CPU and queue mapping keep them
/// whole only if the NIC's receive hashing is symmetric, which the sensor cannot know: not offered.
/// PACKET_FANOUT_FLAG_DEFRAG reassembles IP fragments before the hash, since only the first
/// fragment carries the ports (packet(7)).</para>
/// <para>The group is chosen after the socket is bound and its ring set up, so the first frames of a
/// starting member may also reach the others; from then on each frame goes to exactly one member.
/// Every member must use the same interface, filter and group: the filter runs after the kernel has
/// chosen the member, so a member with a narrower filter loses what it filters out.</para>
/// </summary>
public static class PacketFanout
{
    // linux/if_packet.h and linux/socket.h.
    private const int SolPacket = 263;
    private const int PacketFanoutOption = 18;
    private const int PacketFanoutHash = 0;
    private const int PacketFanoutFlagDefrag = 0x8000;

    // asm-generic/errno.h
    private const int EInval = 22, ENoSpc = 28, ENotSock = 88, ENoProtoOpt = 92, EAlready = 114;

    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static extern unsafe int SetSockOpt(int fd, int level, int name, void* value, uint length);

    /// <summary>The option value: the group id in the low 16 bits, mode and flags in the high 16 (packet(7)).</summary>
    public static int OptionValue(int group) => (group & 0xFFFF) | ((PacketFanoutHash | PacketFanoutFlagDefrag) << 16);

    /// <summary>Joins <paramref name="fd"/> (libpcap's socket on <paramref name="iface"/>) to the group, or throws a one-sentence reason.</summary>
    public static unsafe void Join(int fd, int group, string iface)
    {
        if (!OperatingSystem.IsLinux())
            throw Refused(group, iface, "fanout is a Linux AF_PACKET feature");
        if (fd < 0)
            throw Refused(group, iface, "libpcap gave no capture socket (pcap_fileno)");
        int value = OptionValue(group);
        if (SetSockOpt(fd, SolPacket, PacketFanoutOption, &value, sizeof(int)) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        throw Refused(group, iface, errno switch
        {
            // fanout_add (net/packet/af_packet.c): an existing group of that id with another mode or
            // flags, another interface or protocol, or a socket that is not running (interface down).
            EInval => "the group exists with another mode or on another interface (a group id is per network namespace: " +
                      "each interface needs its own, and another program may hold this one), or the interface is down",
            ENoSpc => "the group is full",
            EAlready => "the socket is already in a fanout group",
            ENotSock or ENoProtoOpt => "this libpcap does not capture with an AF_PACKET socket",
            _ => Marshal.GetPInvokeErrorMessage(errno),
        });
    }

    private static CaptureDeviceException Refused(int group, string iface, string why) =>
        new($"cannot join fanout group {group} on '{iface}': {why}", CaptureProblem.FanoutRefused);
}
