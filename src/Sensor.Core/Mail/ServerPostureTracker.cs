using Sensor.Core.Events;

namespace Sensor.Core.Mail;

/// <summary>
/// The one place server postures are kept: learns from <see cref="ServerCapabilities"/> notes,
/// logins and STARTTLS outcomes, stamps each login with whether its server offers STARTTLS, and
/// passes every finding on. It sits after the per-flow analysis (after the merge when flows are
/// analysed in parallel), so a posture learned on one connection informs logins on every other
/// connection to that server in capture order, however the flows were spread over threads.
/// <para>
/// With a report interval (live capture) it also reports the whole inventory as
/// <see cref="ServerReport"/> events every interval of packet time (<see cref="Tick"/>, called with
/// the capture clock); a server evicted at the cap is reported as it leaves.
/// </para>
/// </summary>
public sealed class ServerPostureTracker : IEventSink
{
    private readonly IEventSink _next;
    private readonly long _intervalNs;
    private long _nextReportNs = long.MinValue;

    /// <param name="reportInterval">Periodic inventory reports; null or zero for none (reading files: one report at each file's end).</param>
    public ServerPostureTracker(IEventSink next, int maxServers = ServerPostureTable.DefaultMaxServers, TimeSpan? reportInterval = null)
    {
        _next = next;
        Servers = new ServerPostureTable(maxServers);
        _intervalNs = reportInterval is { } i && i > TimeSpan.Zero ? i.Ticks * 100 : 0;
    }

    public ServerPostureTable Servers { get; }

    /// <summary>The latest capture time seen (packets and clock ticks), for the final report.</summary>
    public long ClockNs { get; private set; } = long.MinValue;

    public void Emit(SensorEvent e)
    {
        switch (e)
        {
            case ServerCapabilities caps:
            {
                var p = Touch(caps);
                // Once seen offering STARTTLS a server keeps that mark: a list shown before TLS on
                // one connection and a shorter one on another do not undo each other.
                if (p.OffersStartTls != true || caps.OffersStartTls) p.OffersStartTls = caps.OffersStartTls;
                if (caps.LoginDisabled) p.LoginDisabled = true;
                if (caps.AuthBeforeStartTls) p.AuthBeforeStartTls = true;
                p.Capabilities |= caps.Names;
                return; // a note, not a finding
            }
            case AuthAttempt auth:
            {
                var p = Touch(auth);
                p.Logins++;
                if (auth.Outcome == AuthOutcome.Failure) p.LoginsFailed++;
                if (auth.Exposure == CredentialExposure.Cleartext)
                {
                    p.CleartextLogins++;
                    if (auth.Outcome == AuthOutcome.Success) p.CleartextLoginsAccepted++;
                }
                _next.Emit(auth with { ServerOffersStartTls = p.OffersStartTls });
                return;
            }
            case StartTlsUpgrade tls:
            {
                var p = Touch(tls);
                if (tls.Outcome == AuthOutcome.Success)
                {
                    p.StartTlsUpgrades++;
                    p.OffersStartTls = true;
                }
                _next.Emit(tls);
                return;
            }
            default:
                _next.Emit(e);
                return;
        }
    }

    /// <summary>
    /// The capture clock moved (every packet and idle tick): a periodic report when one is due. The
    /// first call starts the period. A compare and a store unless a report is due.
    /// </summary>
    public void Tick(long nowNs)
    {
        if (nowNs > ClockNs) ClockNs = nowNs;
        if (_intervalNs == 0 || nowNs < _nextReportNs) return;
        if (_nextReportNs != long.MinValue) Servers.Report(_next, nowNs);
        _nextReportNs = nowNs + _intervalNs;
    }

    /// <summary>Whether <see cref="Tick"/> would start a period or report (read without a lock; only the clock's thread writes it).</summary>
    public bool IsDue(long nowNs) => _intervalNs != 0 && nowNs >= _nextReportNs;

    /// <summary>Reports every server now (end of a capture file, end of a live capture).</summary>
    public void Report(long nowNs) => Servers.Report(_next, nowNs);

    private ServerPosture Touch(SensorEvent e)
    {
        var p = Servers.Get(e.Server, e.Protocol, e.Tunnel, out var evicted);
        if (evicted is not null) _next.Emit(evicted.ToReport(e.TimestampNs, evicted: true));
        p.Seen(e);
        return p;
    }
}
