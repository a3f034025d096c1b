namespace Sensor.Core.Flows;

/// <summary>
/// Direction-free identity of a TCP connection: the two endpoints in a canonical order, so that
/// both directions of a connection find the same flow, and the realm of the tenant network it
/// arrived in (<see cref="Encapsulation.Realm"/>, 0 for plain traffic), so that two VXLAN networks
/// or VLANs using the same addresses are two connections.
/// </summary>
public readonly record struct FlowKey
{
    public IpEndpoint Low { get; }
    public IpEndpoint High { get; }

    public ulong Realm { get; }

    public FlowKey(IpEndpoint a, IpEndpoint b, ulong realm = 0)
    {
        Realm = realm;
        bool aFirst = a.Address < b.Address || (a.Address == b.Address && a.Port <= b.Port);
        Low = aFirst ? a : b;
        High = aFirst ? b : a;
    }

    public override int GetHashCode() => HashCode.Combine(Low.Address, Low.Port, High.Address, High.Port, Realm);
}
