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
    /// <summary>RFC 3032 label stack entry, one per label, top of the stack first; the id is the label.</summary>
    Mpls,
    /// <summary>RFC 2516 PPPoE session; the id is the session id.</summary>
    Pppoe,
    /// <summary>RFC 2784/2890 GRE carrying a packet or frame; the id is the key when the K bit is set (none otherwise). Not recorded under ERSPAN, whose transport it is.</summary>
    Gre,
    /// <summary>ERSPAN type I, II or III (draft-foschiano-erspan) inside GRE; the id is the session id (type I has none).</summary>
    Erspan,
    /// <summary>RFC 7348 VXLAN; the id is the VNI.</summary>
    Vxlan,
    /// <summary>RFC 8926 GENEVE; the id is the VNI.</summary>
    Geneve,
    /// <summary>IPv4 or IPv6 carried directly in IPv4 or IPv6 (protocols 4 and 41, RFC 2003, RFC 4213); no id.</summary>
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
        TunnelKind.IpInIp => "ip-in-ip",
        _ => "none",
    };
}
