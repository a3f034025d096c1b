namespace Sensor.Capture.Decoding;

public enum DecodeResult : byte
{
    Tcp,
    NotIp,
    NotTcp,
    /// <summary>An IPv4 or IPv6 fragment: the datagram must be reassembled first (<see cref="IpFragment"/>).</summary>
    Fragment,
    Malformed,
    /// <summary>An encapsulation the decoder does not know (GRE version 1, a VXLAN frame without its I flag, ...).</summary>
    UnknownEncapsulation,
    /// <summary>More tunnel layers than <see cref="DecoderSettings.MaxTunnelDepth"/>.</summary>
    TooDeep,
}
