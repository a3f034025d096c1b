using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Imap;
using Sensor.Core.Mail;
using Sensor.Core.Pop3;
using Sensor.Core.Smtp;
using Sensor.Core.Reassembly;

namespace Sensor.Core.Detection;

/// <summary>
/// The consumer of every TCP connection until its first lines say what it is. Holds a small prefix
/// of each direction (bounded), decides IMAP, POP3, SMTP or not-mail, corrects client/server roles when the
/// content contradicts the port guess, then replays the prefix into the protocol's session. A
/// connection that is not mail is released after its first bytes and costs nothing more.
/// </summary>
public sealed class MailFlowClassifier : IStreamConsumer
{
    /// <summary>Bytes looked at per direction before giving up on recognising a protocol.</summary>
    public const int MaxPrefixPerDirection = 1024;

    private readonly TcpFlow _flow;
    private readonly AnalysisContext _context;
    private readonly MailProtocolGuess _portHint;
    private MailSession? _session;
    private bool _released;
    // Created on the first payload byte: a SYN flood or an idle handshake costs no prefix buffer.
    private FlowPrefix? _prefix;

    public MailFlowClassifier(TcpFlow flow, AnalysisContext context)
    {
        _flow = flow;
        _context = context;
        _portHint = HintFromPort(flow.Server.Port);
        if (_portHint == MailProtocolGuess.NotMail && !flow.RolesFromHandshake)
        {
            // No handshake seen: the port may tell the roles apart better than the port order did.
            var reversed = HintFromPort(flow.Client.Port);
            if (reversed != MailProtocolGuess.NotMail) { flow.SwapRoles(); _portHint = reversed; }
        }
    }

    private MailProtocolGuess HintFromPort(ushort port) =>
        _context.Options.ImapPorts.Contains(port) ? MailProtocolGuess.Imap
        : _context.Options.Pop3Ports.Contains(port) ? MailProtocolGuess.Pop3
        : _context.Options.SmtpPorts.Contains(port) ? MailProtocolGuess.Smtp
        : MailProtocolGuess.NotMail;

    public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        if (_session is not null) return _session.OnData(direction, data, timestampNs);
        if (_released) return false;

        var prefix = _prefix ??= new FlowPrefix();
        int kept = prefix.Add(direction, data, timestampNs);
        bool full = kept < data.Length;
        var (guess, swap) = Classify(prefix, full);
        switch (guess)
        {
            case MailProtocolGuess.NeedMore:
                return true;
            case MailProtocolGuess.NotMail:
                Release();
                return false;
        }

        if (swap && !_flow.RolesFromHandshake)
        {
            _flow.SwapRoles();
            prefix.SwapDirections();
            direction = direction == StreamDirection.ClientToServer ? StreamDirection.ServerToClient : StreamDirection.ClientToServer;
        }
        _session = NewSession(guess);
        _prefix = null;
        // Replay what was held, then hand over whatever of this chunk did not fit the prefix.
        if (!prefix.Replay(_session)) return false;
        return kept >= data.Length || _session.OnData(direction, data[kept..], timestampNs);
    }

    public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        if (_session is not null) _session.OnGap(direction, skippedBytes, timestampNs);
        else if (!_released) (_prefix ??= new FlowPrefix()).AddGap(direction, skippedBytes, timestampNs); // replayed into the session
    }

    public void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs) =>
        _session?.OnUnseenBytesAcknowledged(direction, timestampNs); // before classification the gap itself will come

    public void OnClose(FlowCloseReason reason, long timestampNs)
    {
        if (_session is null && !_released && _prefix is { } prefix)
        {
            // The connection ended before its first lines were complete: decide on what there is.
            var (guess, swap) = Classify(prefix, full: true);
            if (guess is MailProtocolGuess.Imap or MailProtocolGuess.Pop3 or MailProtocolGuess.Smtp)
            {
                if (swap && !_flow.RolesFromHandshake) { _flow.SwapRoles(); prefix.SwapDirections(); }
                _session = NewSession(guess);
                prefix.Replay(_session);
            }
        }
        _session?.OnClose(timestampNs);
        _prefix = null;
    }

    private MailSession NewSession(MailProtocolGuess guess)
    {
        switch (guess)
        {
            case MailProtocolGuess.Imap:
                _context.Counters.FlowsImap++;
                return new ImapSession(_flow, _context);
            case MailProtocolGuess.Pop3:
                _context.Counters.FlowsPop3++;
                return new Pop3Session(_flow, _context);
            default:
                _context.Counters.FlowsSmtp++;
                return new SmtpSession(_flow, _context);
        }
    }

    private void Release()
    {
        _released = true;
        _prefix = null;
        _context.Counters.FlowsNotMail++;
        if (_portHint != MailProtocolGuess.NotMail) _context.Counters.MailPortFlowsNotMail++;
    }

    private (MailProtocolGuess Guess, bool Swap) Classify(FlowPrefix prefix, bool full)
    {
        bool serverComplete = prefix.TryFirstLine(StreamDirection.ServerToClient, out var serverLine);
        bool clientComplete = prefix.TryFirstLine(StreamDirection.ClientToServer, out var clientLine);

        if (serverComplete)
        {
            var g = ProtocolSignatures.FromServerLine(serverLine);
            if (g != MailProtocolGuess.NotMail) return (g, false);
            // On an SMTP port any reply will do: the greeting may have come before the capture.
            if (_portHint == MailProtocolGuess.Smtp && ProtocolSignatures.IsSmtpReply(serverLine)) return (MailProtocolGuess.Smtp, false);
            // The "server" did not answer like a mail server. If the other side greets, roles were guessed wrong.
            if (clientComplete && ProtocolSignatures.FromServerLine(clientLine) is var r && r != MailProtocolGuess.NotMail)
                return (r, true);
            return (MailProtocolGuess.NotMail, false);
        }
        if (clientComplete)
        {
            var asServer = ProtocolSignatures.FromServerLine(clientLine);
            if (asServer != MailProtocolGuess.NotMail && ProtocolSignatures.FromClientLine(clientLine, out _) == MailProtocolGuess.NotMail)
                return (asServer, true);
            var g = ProtocolSignatures.FromClientLine(clientLine, out bool decisive);
            // On a mail port an unknown first command may be the client's, not the protocol's
            // (garbage before a login, a greeting lost): let the server's first line decide.
            if (g == MailProtocolGuess.NotMail) return (full || _portHint == MailProtocolGuess.NotMail ? MailProtocolGuess.NotMail : MailProtocolGuess.NeedMore, false);
            if (decisive || g == _portHint) return (g, false);
            // A command shared with other protocols on an unusual port: wait for the server's answer.
            return (full ? g : MailProtocolGuess.NeedMore, false);
        }
        return (full ? MailProtocolGuess.NotMail : MailProtocolGuess.NeedMore, false);
    }
}
