namespace Sensor.Capture.Live;

/// <summary>How to open a live interface. Defaults suit a SPAN port carrying mixed traffic.</summary>
public sealed record CaptureSettings
{
    public required string Interface { get; init; }
    /// <summary>A BPF filter; when empty one is built from <see cref="Ports"/> (none when no ports).</summary>
    public string? Filter { get; init; }
    /// <summary>Mail ports to capture. Empty: every TCP flow is examined, so mail on unusual ports is found.</summary>
    public IReadOnlyList<ushort> Ports { get; init; } = [];
    public int SnapLength { get; init; } = 65_535;
    /// <summary>Kernel capture buffer (libpcap pcap_set_buffer_size), in MiB.</summary>
    public int BufferSizeMiB { get; init; } = 64;
    public bool Promiscuous { get; init; } = true;
    /// <summary>AF_PACKET fanout group (0-65535) shared with the other sensor processes on this interface; null: capture alone.</summary>
    public int? FanoutGroup { get; init; }

    /// <summary>The interface, and the fanout group when there is one: how logs and the service status name this capture.</summary>
    public string Description => FanoutGroup is { } g ? $"{Interface} (fanout group {g})" : Interface;

    /// <summary>UDP ports of the tunnels the decoder opens (VXLAN, GENEVE): a port filter must let them through.</summary>
    public IReadOnlyList<ushort> TunnelPorts { get; init; } = [4789, 8472, 6081];

    /// <summary>
    /// The kernel filter, or null for none. Without <see cref="Ports"/> there is none: the decoder
    /// opens VXLAN and GENEVE (UDP), GRE, IP in IP, MPLS and PPPoE and reassembles fragments, and a
    /// plain "tcp" would throw all of those away (and VLAN-tagged frames whose tag the kernel leaves in
    /// the data); the frames it does not want cost a few header reads each. With ports, mail TCP on
    /// them plus everything that may carry it: frames that are neither TCP nor UDP (tags, MPLS, PPPoE,
    /// GRE, IP in IP), the tunnels' UDP ports and IP fragments (a later fragment has no ports to match).
    /// </summary>
    public string? EffectiveFilter => !string.IsNullOrWhiteSpace(Filter) ? Filter!
        : Ports.Count == 0 ? null
        : "(tcp and (" + string.Join(" or ", Ports.Select(p => $"port {p}")) + ")) or not (tcp or udp)"
          + (TunnelPorts.Count == 0 ? "" : " or (udp and (" + string.Join(" or ", TunnelPorts.Select(p => $"dst port {p}")) + "))")
          + " or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)";
}
