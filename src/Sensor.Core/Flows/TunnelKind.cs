namespace Sensor.Core.Flows;

/// <summary>
/// The layers a frame can arrive wrapped in before the TCP segment the sensor analyses. Mirrored
/// traffic rarely arrives as plain Ethernet: remote SPAN sends ERSPAN, cloud mirroring sends VXLAN or
/// GENEVE, fabrics add tags and MPLS labels, and tunnels carry IP in IP or GRE.
/// </summary>
public enum TunnelKind : byte
{
    None = 0,
    /// <summary>IEEE 802.1Q / 802.1ad tag; the id is the VLAN id (12 bits).</summary>
    Vlan,
    /// <summary>RFC 3032 label stack; the id is the bottom-of-stack label (the one naming the VPN or pseudowire).</summary>
    Mpls,
    /// <summary>RFC 2516 PPPoE session; the id is the session id.</summary>
    Pppoe,
    /// <summary>RFC 2784/2890 GRE; the id is the key when the K bit is set, else 0.</summary>
    Gre,
    /// <summary>ERSPAN type I, II or III (draft-foschiano-erspan) inside GRE; the id is the session id.</summary>
    Erspan,
    /// <summary>RFC 7348 VXLAN; the id is the VNI.</summary>
    Vxlan,
    /// <summary>RFC 8926 GENEVE; the id is the VNI.</summary>
    Geneve,
    /// <summary>IPv4 or IPv6 carried directly in IPv4 or IPv6 (protocols 4 and 41, RFC 2003, RFC 4213); the id is the protocol number.</summary>
    IpInIp,
}

public static class TunnelKindNames
{
    /// <summary>The name events and counters use.</summary>
    public static string Name(this TunnelKind kind) => kind switch
    {
        TunnelKind.Vlan => "vlan",
        TunnelKind.Mpls => "mpls",
        TunnelKind.Pppoe => "pppoe",
        TunnelKind.Gre => "gre",
        TunnelKind.Erspan => "erspan",
        TunnelKind.Vxlan => "vxlan",
        TunnelKind.Geneve => "geneve",
        TunnelKind.IpInIp => "ipip",
        _ => "none",
    };
}
