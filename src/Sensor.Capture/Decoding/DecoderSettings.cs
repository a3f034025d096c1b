using Sensor.Core.Mail;

namespace Sensor.Capture.Decoding;

/// <summary>
/// What the frame decoder needs to know beyond the bytes: which UDP ports carry tunnels, whether VLAN
/// ids separate connections, how deep it may go. Built once per pipeline; read per packet.
/// </summary>
public sealed class DecoderSettings
{
    /// <summary>
    /// Tunnel layers peeled off one packet at most (VLAN tags are bounded separately, four per
    /// Ethernet header). Real mirroring stacks two or three (ERSPAN carrying a VXLAN underlay); more
    /// is a crafted packet, skipped and counted.
    /// </summary>
    public const int MaxTunnelDepth = 4;

    public static DecoderSettings Default { get; } = new(new AnalysisOptions());

    internal const byte UdpVxlan = 1, UdpGeneve = 2;
    /// <summary>Per UDP destination port: which tunnel, if any (64 KiB, one lookup per UDP packet).</summary>
    internal readonly byte[] UdpTunnels = new byte[65536];

    public DecoderSettings(AnalysisOptions options)
    {
        foreach (var p in options.VxlanPorts) UdpTunnels[p] = UdpVxlan;
        foreach (var p in options.GenevePorts) UdpTunnels[p] = UdpGeneve;
        VlanSeparatesConnections = options.VlanSeparatesConnections;
    }

    public bool VlanSeparatesConnections { get; }
}
