using Sensor.Core.Events;

namespace Sensor.Core.Mail;

/// <summary>
/// The one place server postures are kept: learns from <see cref="ServerCapabilities"/> notes and
/// STARTTLS outcomes, stamps each login with whether its server offers STARTTLS, and passes every
/// finding on. It sits after the per-flow analysis (after the merge when flows are analysed in
/// parallel), so a posture learned on one connection informs logins on every other connection to
/// that server in capture order, however the flows were spread over threads.
/// </summary>
public sealed class ServerPostureTracker(IEventSink next, int maxServers = 65_536) : IEventSink
{
    public ServerPostureTable Servers { get; } = new(maxServers);

    public void Emit(SensorEvent e)
    {
        switch (e)
        {
            case ServerCapabilities caps:
                if (Servers.Get(caps.Server, caps.Protocol) is { } p)
                {
                    // Once seen offering STARTTLS a server keeps that mark: a list shown before TLS on
                    // one connection and a shorter one on another do not undo each other.
                    if (p.OffersStartTls != true || caps.OffersStartTls) p.OffersStartTls = caps.OffersStartTls;
                    if (caps.LoginDisabled) p.LoginDisabled = true;
                    if (caps.AuthBeforeStartTls) p.AuthBeforeStartTls = true;
                }
                return; // a note, not a finding
            case AuthAttempt auth:
                var posture = Servers.Get(auth.Server, auth.Protocol);
                if (posture is not null && auth.Exposure == CredentialExposure.Cleartext) posture.CleartextLogins++;
                next.Emit(auth with { ServerOffersStartTls = posture?.OffersStartTls });
                return;
            case StartTlsUpgrade tls:
                if (tls.Outcome == AuthOutcome.Success && Servers.Get(tls.Server, tls.Protocol) is { } s)
                {
                    s.StartTlsUpgrades++;
                    s.OffersStartTls = true;
                }
                next.Emit(tls);
                return;
            default:
                next.Emit(e);
                return;
        }
    }
}
