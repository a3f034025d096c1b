using Sensor.Core.Flows;
using Sensor.Core.Site;

namespace Sensor.Core.Events;

/// <summary>Fields every event carries: when, which connection, which side is which.</summary>
public abstract record SensorEvent
{
    /// <summary>Packet time, nanoseconds since the Unix epoch.</summary>
    public required long TimestampNs { get; init; }
    public required string FlowId { get; init; }
    /// <summary>The side that opened the connection and sent the commands.</summary>
    public required IpEndpoint Client { get; init; }
    public required IpEndpoint Server { get; init; }
    public required AppProtocol Protocol { get; init; }
    /// <summary>How the connection arrived: tags and tunnels, outermost first (empty for plain traffic).</summary>
    public Encapsulation Tunnel { get; init; }
    /// <summary>Client and server relative to the home networks; null when none are configured.</summary>
    public TrafficDirection? Direction { get; init; }
}
