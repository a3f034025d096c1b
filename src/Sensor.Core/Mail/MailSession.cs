using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Reassembly;
using Sensor.Core.Sasl;

namespace Sensor.Core.Mail;

/// <summary>
/// Base of the IMAP, POP3 and SMTP session state machines: the connection they watch and how they report.
/// Events are built here, and only here, so both protocols emit the same shape.
/// </summary>
public abstract class MailSession
{
    protected MailSession(TcpFlow flow, AnalysisContext context, AppProtocol protocol)
    {
        Flow = flow;
        Context = context;
        Protocol = protocol;
    }

    protected TcpFlow Flow { get; }
    protected AnalysisContext Context { get; }
    public AppProtocol Protocol { get; }
    protected bool Reveal => Context.Options.RevealSecrets;

    /// <returns>False once the connection is TLS (or hopeless): no more payload is wanted.</returns>
    public abstract bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs);
    public abstract void OnGap(StreamDirection direction, long skippedBytes, long timestampNs);
    /// <summary>The peer acknowledged bytes not delivered (see IStreamConsumer): its next answer may be to them.</summary>
    public abstract void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs);
    /// <summary>Settle what is still waiting for an answer: outcome unknown.</summary>
    public abstract void OnClose(long timestampNs);

    /// <summary>
    /// A TLS record header (content type 20-23, legacy version 3.x: RFC 8446 §5.1) where a line should
    /// begin: the connection turned to TLS although its STARTTLS, or the answer to it, was lost. No text
    /// protocol line starts with these control bytes.
    /// </summary>
    protected bool TurnedToTls(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] < 0x14 || data[0] > 0x17 || data[1] != 3 || data[2] > 4) return false;
        Context.Counters.TlsWithoutStartTlsSeen++;
        return true;
    }

    private bool _capabilitiesReported, _reportedStartTls, _reportedLoginDisabled, _reportedAuthBeforeStartTls;
    private MailCapabilities _reportedNames;

    /// <summary>A capability list was read: tell the posture tracker, once per change on this connection.</summary>
    protected void RecordCapabilities(bool offersStartTls, bool loginDisabled, MailCapabilities names, bool authBeforeStartTls = false)
    {
        if (_capabilitiesReported && _reportedStartTls == offersStartTls && _reportedLoginDisabled == loginDisabled
            && _reportedAuthBeforeStartTls == authBeforeStartTls && _reportedNames == names) return;
        (_capabilitiesReported, _reportedStartTls, _reportedLoginDisabled, _reportedAuthBeforeStartTls, _reportedNames) =
            (true, offersStartTls, loginDisabled, authBeforeStartTls, names);
        Context.Sink.Emit(new ServerCapabilities
        {
            TimestampNs = Flow.LastNs,
            FlowId = Flow.FlowId,
            Client = Flow.Client,
            Server = Flow.Server,
            Protocol = Protocol,
            Tunnel = Flow.Tunnel,
            OffersStartTls = offersStartTls,
            LoginDisabled = loginDisabled,
            AuthBeforeStartTls = authBeforeStartTls,
            Names = names,
        });
    }

    protected void EmitAuth(long timestampNs, string mechanism, string? username, string? secret,
        CredentialExposure exposure, AuthOutcome outcome)
    {
        Context.Counters.AuthEvents++;
        Context.Sink.Emit(new AuthAttempt
        {
            TimestampNs = timestampNs,
            FlowId = Flow.FlowId,
            Client = Flow.Client,
            Server = Flow.Server,
            Protocol = Protocol,
            Tunnel = Flow.Tunnel,
            Mechanism = mechanism,
            Username = username,
            Secret = Reveal ? secret : null,
            Exposure = exposure,
            Outcome = outcome,
            // ServerOffersStartTls is stamped by the ServerPostureTracker, which sees every connection.
        });
    }

    /// <summary>The auth event of a finished SASL exchange (RFC 4422): identity and exposure per mechanism.</summary>
    protected void EmitSaslAuth(long timestampNs, SaslExchange sasl, AuthOutcome outcome)
    {
        if (sasl.Cancelled && sasl.ClientResponses.Count == 0)
        {
            // Aborted before the client sent anything (e.g. curl giving up on DIGEST-MD5 to try the
            // next mechanism): no credential crossed, so it is not a login attempt.
            Context.Counters.SaslExchangesAbortedEmpty++;
            return;
        }
        if (sasl.Damaged && sasl.ClientResponses.Count == 0)
        {
            // Client bytes were lost before the answer and none of its responses seen: the exchange may
            // have been such an abort ("*"), a refusal, or a lost credential. Which cannot be told, and
            // an abort is no attempt: no event.
            Context.Counters.CredentialsUnproven++;
            return;
        }
        if (sasl.Cancelled && outcome == AuthOutcome.Unknown) outcome = AuthOutcome.Failure;
        var creds = SaslDecoder.Decode(sasl, Reveal);
        EmitAuth(timestampNs, "AUTH=" + sasl.Mechanism, creds.Username, creds.Secret, creds.Exposure, outcome);
    }

    protected void EmitStartTls(long timestampNs, AuthOutcome outcome)
    {
        if (outcome == AuthOutcome.Success) Context.Counters.TlsUpgrades++;
        Context.Counters.StartTlsEvents++;
        Context.Sink.Emit(new StartTlsUpgrade
        {
            TimestampNs = timestampNs,
            FlowId = Flow.FlowId,
            Client = Flow.Client,
            Server = Flow.Server,
            Protocol = Protocol,
            Tunnel = Flow.Tunnel,
            Outcome = outcome,
        });
    }
}
