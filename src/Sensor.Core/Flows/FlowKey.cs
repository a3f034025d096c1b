namespace Sensor.Core.Flows;

/// <summary>
/// Direction-free identity of a TCP connection: the two endpoints in a canonical order, so that
/// both directions of a connection find the same flow.
/// </summary>
public readonly record struct FlowKey
{
    public IpEndpoint Low { get; }
    public IpEndpoint High { get; }

    public FlowKey(IpEndpoint a, IpEndpoint b)
    {
        bool aFirst = a.Address < b.Address || (a.Address == b.Address && a.Port <= b.Port);
        Low = aFirst ? a : b;
        High = aFirst ? b : a;
    }

    public override int GetHashCode() => HashCode.Combine(Low.Address, Low.Port, High.Address, High.Port);
}
