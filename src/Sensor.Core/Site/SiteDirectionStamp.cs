using Sensor.Core.Events;

namespace Sensor.Core.Site;

/// <summary>
/// Puts the site's view on every finding: <see cref="SensorEvent.Direction"/> from where its client
/// and server are, and for a server report whether the server is inside. A decorator placed after
/// the analysis and the guessing detector (so alerts are stamped too), before the outputs: one
/// look-up per event, nothing per packet. Without home networks it is not in the chain at all and
/// events carry no direction.
/// </summary>
public sealed class SiteDirectionStamp(HomeNetworks home, IEventSink next) : IEventSink
{
    public void Emit(SensorEvent e)
    {
        if (e is ServerReport server)
            next.Emit(server with { Inside = home.Contains(server.Server.Address) });
        else
            next.Emit(e with { Direction = home.DirectionOf(e.Client, e.Server) });
    }
}
