namespace Sensor.Core.Site;

/// <summary>
/// Which side of the site boundary a connection's client and server are on (Suricata's HOME_NET,
/// Zeek's <c>Site::local_nets</c>). Known only when home networks are configured.
/// </summary>
public enum TrafficDirection : byte
{
    /// <summary>An inside client to an outside server: a user's password leaving the site.</summary>
    Outbound,
    /// <summary>An outside client to an inside server: the site's server exposed to the world.</summary>
    Inbound,
    /// <summary>Both inside.</summary>
    Internal,
    /// <summary>Both outside (transit, or a mirror port seeing more than the site).</summary>
    External,
}
