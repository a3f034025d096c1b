using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Core.Sasl;
using Sensor.Core.Text;

namespace Sensor.Core.Pop3;

/// <summary>
/// A POP3 connection (RFC 1939, extensions RFC 2449, AUTH RFC 5034, STLS RFC 2595) watched from the
/// wire. Commands queue in order and each status line answers the oldest, which follows pipelining
/// clients. Multi-line bodies (RETR, TOP, LIST, UIDL, CAPA) are skipped to their terminating dot and
/// never read as commands.
///
/// Loss. POP3 pairs answers with commands by position only, so a gap breaks the pairing: lost server
/// bytes may have held any owed answer (or a body's end), lost client bytes any number of commands.
/// After a gap nothing is paired by position beyond the commands already queued before a client-side
/// loss; the order is found again by a probe (a lone command answered by a line that begins a server
/// segment, see <see cref="OnStatusWithOrderLost"/>). Until then outcomes are unknown, and a
/// credential read after client bytes were lost is reported only once an answer proves it was a command.
/// </summary>
public sealed class Pop3Session : MailSession
{
    private readonly LineAssembler _clientLines;
    private readonly LineAssembler _serverLines;
    private readonly Queue<Pop3PendingCommand> _pending = new(4);
    private Pop3ServerState _server = Pop3ServerState.Greeting;
    /// <summary>An AUTH exchange in progress: client lines are its responses (RFC 5034 §4).</summary>
    private SaslExchange? _sasl;
    private bool _capaOffersStls;
    private MailCapabilities _capaNames;

    // The order of answers. While _orderLost, only the first _pairable queued commands (queued before
    // the loss) are still answered in order; after them the count of owed answers is unknown.
    private bool _orderLost;
    private int _pairable;
    /// <summary>Client bytes were lost and no answer has confirmed a later command yet.</summary>
    private bool _clientUnproven;

    private PendingUser _user;

    /// <summary>The latest USER: its name serves the PASS that follows; without a PASS it is an attempt of its own.</summary>
    private struct PendingUser
    {
        public string? Name;
        public long TimestampNs;
        public bool AwaitingPass;
        public bool Unproven;
        public AuthOutcome Answer;
    }

    public Pop3Session(TcpFlow flow, AnalysisContext context) : base(flow, context, AppProtocol.Pop3)
    {
        _clientLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        _serverLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        if (!flow.RolesFromHandshake)
        {
            // The capture began mid-connection: how many answers are owed is unknown. POP3 clients
            // send no message bodies, so the client lines seen are commands (unlike IMAP's, where a
            // capture that begins inside an APPEND literal shows body lines).
            _server = Pop3ServerState.Status;
            LoseOrder(pairable: 0);
        }
    }

    public override bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        bool fromClient = direction == StreamDirection.ClientToServer;
        var lines = fromClient ? _clientLines : _serverLines;
        bool segmentStart = lines.AtLineStart;
        if (segmentStart && _server != Pop3ServerState.Tls && TurnedToTls(data)) _server = Pop3ServerState.Tls;
        while (!data.IsEmpty && _server != Pop3ServerState.Tls)
        {
            bool startsSegment = segmentStart;
            segmentStart = false;
            if (!fromClient && _server == Pop3ServerState.Body && lines.AtLineStart && data[0] != (byte)'.')
            {
                SkipBodyLines(ref data, lines);
                continue;
            }
            var status = lines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) break;
            if (status == LineStatus.TooLong)
            {
                if (fromClient || _server is not (Pop3ServerState.Body or Pop3ServerState.CapaList)) Context.Counters.LinesTooLong++;
                continue;
            }
            if (fromClient) OnClientLine(line, timestampNs);
            else OnServerLine(line, timestampNs, startsSegment);
        }
        return _server != Pop3ServerState.Tls;
    }

    public override void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        if (_server == Pop3ServerState.Tls) return;
        if (direction == StreamDirection.ClientToServer)
        {
            _clientLines.Resynchronize();
            // The lost bytes may have held commands. Their answers come after those owed to the
            // commands queued now, which therefore still pair by position; nothing after them does.
            _sasl?.MarkDamaged();
            _clientUnproven = true;
            LoseOrder(pairable: _orderLost ? _pairable : _pending.Count);
        }
        else
        {
            _serverLines.Resynchronize();
            // The lost bytes may have held any owed answer or a body's end: every queued command's
            // answer is unknown, but for an AUTH still exchanging. Its client cannot send another
            // command before the AUTH's answer, so while it goes on answering challenges the exchange
            // is not over, and a lone answer at a segment start is its answer (the probe below). A
            // command from the client instead shows the answer was among the lost bytes.
            // Not when client bytes went missing during the exchange: those may have ended it.
            Pop3PendingCommand? exchanging = null;
            while (_pending.TryDequeue(out var p))
            {
                if (p.Kind == Pop3CommandKind.Auth && _sasl is { Damaged: false } && p.Sasl == _sasl) exchanging = p;
                else Settle(p, AuthOutcome.Unknown);
            }
            if (exchanging is { } auth) _pending.Enqueue(auth);
            _server = Pop3ServerState.Status;
            LoseOrder(pairable: 0);
        }
    }

    public override void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs)
    {
        if (_server == Pop3ServerState.Tls || direction != StreamDirection.ClientToServer) return;
        // The server has client bytes we have not: the answer coming may be to a command we never
        // saw, after the answers owed to what is queued (which still pair by position). A probe
        // queued after a loss cannot prove the order any more.
        _sasl?.MarkDamaged();
        if (_orderLost && _pairable == 0) SettleAll(AuthOutcome.Unknown);
        else LoseOrder(pairable: _orderLost ? _pairable : _pending.Count);
    }

    public override void OnClose(long timestampNs)
    {
        SettleAll(AuthOutcome.Unknown);
        FinishUser();
        _clientLines.Release();
        _serverLines.Release();
    }

    private void OnClientLine(ReadOnlySpan<byte> line, long t)
    {
        if (_sasl is { } exchange)
        {
            if (!IsCommandNotResponse(line))
            {
                exchange.AddClientLine(line);
                exchange.LastClientLineNs = t;
                if (exchange.Cancelled) _sasl = null; // "*" (RFC 5034 §4): the -ERR that follows settles the AUTH
                return;
            }
            // A command where a response was due: the exchange ended unseen (its answer lost). Its AUTH
            // waits no longer when the order is lost already; otherwise the next answer is still its own.
            _sasl = null;
            if (_orderLost && _pairable == 0) SettleAll(AuthOutcome.Unknown);
        }
        if (line.IsEmpty) return;
        var args = line;
        var keyword = AsciiText.NextWord(ref args);
        if (!IsKeyword(keyword))
        {
            Context.Counters.MalformedLines++;
            return;
        }
        // USER, PASS and APOP take an argument (RFC 1939 §7); a bare keyword is no credential.
        bool hasArgument = keyword.Length < line.Length;

        Pop3PendingCommand command;
        if (Is(keyword, "USER"u8) && hasArgument)
        {
            FinishUser();
            var name = AsciiText.Decode(args);
            _user = new PendingUser { Name = name, TimestampNs = t, AwaitingPass = true, Unproven = _clientUnproven };
            command = new Pop3PendingCommand(Pop3CommandKind.User, t, _clientUnproven, name);
        }
        else if (Is(keyword, "PASS"u8) && hasArgument)
        {
            // The whole rest of the line is the password: servers accept spaces in it (RFC 1939 §7).
            command = new Pop3PendingCommand(Pop3CommandKind.Pass, t, _clientUnproven, _user.Name, Reveal ? AsciiText.Decode(args) : null);
            _user.AwaitingPass = false;
        }
        else if (Is(keyword, "APOP"u8) && hasArgument)
        {
            // APOP name digest (RFC 1939 §7): an MD5 over the greeting's timestamp and the secret.
            FinishUser();
            var name = AsciiText.NextWord(ref args);
            command = new Pop3PendingCommand(Pop3CommandKind.Apop, t, _clientUnproven, AsciiText.Decode(name),
                Reveal ? AsciiText.Decode(AsciiText.TrimSpaces(args)) : null);
        }
        else if (Is(keyword, "AUTH"u8))
        {
            var mechanism = AsciiText.NextWord(ref args);
            if (mechanism.IsEmpty)
            {
                // Bare AUTH lists mechanisms in a multi-line +OK on servers that support it.
                command = new Pop3PendingCommand(Pop3CommandKind.MultiLine, t, _clientUnproven);
            }
            else
            {
                FinishUser();
                var sasl = new SaslExchange(AsciiText.ToUpperString(mechanism)) { LastClientLineNs = t };
                var initial = AsciiText.TrimSpaces(args);
                if (!initial.IsEmpty) sasl.AddClientLine(initial); // initial-response (RFC 5034 §4)
                command = new Pop3PendingCommand(Pop3CommandKind.Auth, t, _clientUnproven, Sasl: sasl);
                _sasl = sasl;
            }
        }
        else if (Is(keyword, "CAPA"u8)) command = new Pop3PendingCommand(Pop3CommandKind.Capa, t, _clientUnproven);
        else if (Is(keyword, "STLS"u8)) command = new Pop3PendingCommand(Pop3CommandKind.Stls, t, _clientUnproven);
        else if (Is(keyword, "RETR"u8) || Is(keyword, "TOP"u8)
                 || ((Is(keyword, "LIST"u8) || Is(keyword, "UIDL"u8)) && AsciiText.TrimSpaces(args).IsEmpty))
            command = new Pop3PendingCommand(Pop3CommandKind.MultiLine, t, _clientUnproven);
        else
            command = new Pop3PendingCommand(Pop3CommandKind.SingleLine, t, _clientUnproven);

        if (_pending.Count >= Context.Options.MaxPendingCommands)
        {
            Context.Counters.PendingCommandOverflows++;
            Settle(DequeueOldest(), AuthOutcome.Unknown);
        }
        _pending.Enqueue(command);
    }

    private void OnServerLine(ReadOnlySpan<byte> line, long t, bool startsSegment)
    {
        if (_server is Pop3ServerState.Body or Pop3ServerState.CapaList)
        {
            OnMultiLine(line);
            return;
        }
        bool ok = AsciiText.StartsWithIgnoreCase(line, "+OK"u8);
        bool err = !ok && AsciiText.StartsWithIgnoreCase(line, "-ERR"u8);
        if (!ok && !err)
        {
            if (_sasl is { } sasl && !line.IsEmpty && line[0] == (byte)'+')
                sasl.AddServerChallenge(line[1..]); // "+ " base64 challenge (RFC 5034 §4)
            else if (!line.IsEmpty)
                Context.Counters.MalformedLines++;
            return;
        }
        if (_server == Pop3ServerState.Greeting)
        {
            _server = Pop3ServerState.Status;
            return;
        }
        if (_orderLost && _pairable == 0)
        {
            OnStatusWithOrderLost(ok, t, startsSegment);
            return;
        }
        if (!_pending.TryPeek(out _))
        {
            // An answer to nothing asked: a command was lost before the reassembler could tell.
            Context.Counters.UnmatchedResponses++;
            LoseOrder(pairable: 0);
            return;
        }
        Answer(DequeueOldest(), ok, t);
    }

    /// <summary>
    /// Suricata's probe-then-resume for a protocol that pairs by position. After a loss a status line
    /// is paired only with a lone queued command (the client waited for the answers before it, as
    /// lock-step clients do) and only when the line begins a server segment (a server writes its
    /// answer after reading the command; a body line that starts "+OK" seldom starts a segment).
    /// That answer proves the command and restores the order. Anything else answers a command never
    /// seen and is dropped; several commands queued (pipelined after the loss) cannot be told apart
    /// and end unknown.
    /// </summary>
    private void OnStatusWithOrderLost(bool ok, long t, bool startsSegment)
    {
        if (_pending.Count == 1 && startsSegment)
        {
            var probe = _pending.Dequeue();
            _orderLost = false;
            _clientUnproven = false;
            Context.Counters.AnswerOrderRecovered++;
            Answer(probe with { Unproven = false }, ok, t);
            return;
        }
        if (_pending.Count > 1) SettleAll(AuthOutcome.Unknown);
        Context.Counters.AnswersAfterLoss++;
    }

    /// <summary>
    /// Inside a message body (RETR, TOP) only a line that begins with "." matters: the terminating
    /// ".", or a byte-stuffed line (RFC 1939 §3). The lines before the next such line are stepped over
    /// in one search instead of being framed one by one: bodies are most of a POP3 connection's bytes.
    /// Called at a line start whose first byte is not ".".
    /// </summary>
    private static void SkipBodyLines(ref ReadOnlySpan<byte> data, LineAssembler lines)
    {
        int dotLine = data.IndexOf("\n."u8);
        if (dotLine >= 0)
        {
            data = data[(dotLine + 1)..];
            return;
        }
        // No line here begins with ".": all of it is body. If it ends inside a line, that line's
        // start was not a "." either, so its rest (in the next segment) is dropped unread.
        if (data[^1] != (byte)'\n') lines.SkipRestOfLine();
        data = default;
    }

    private void OnMultiLine(ReadOnlySpan<byte> line)
    {
        if (line.Length == 1 && line[0] == (byte)'.')
        {
            if (_server == Pop3ServerState.CapaList) RecordCapabilities(_capaOffersStls, loginDisabled: false, _capaNames);
            _server = Pop3ServerState.Status;
        }
        else if (_server == Pop3ServerState.CapaList)
        {
            // One capability per line, its name first (RFC 2449 §6); SASL lists the mechanisms (RFC 5034 §5).
            var rest = AsciiText.TrimSpaces(line);
            var name = AsciiText.NextWord(ref rest);
            if (AsciiText.EqualsIgnoreCase(name, "STLS"u8)) _capaOffersStls = true; // RFC 2595 §4: STLS capability
            _capaNames |= MailCapabilityNames.Of(name);
            if (AsciiText.EqualsIgnoreCase(name, "SASL"u8)) _capaNames |= MailCapabilityNames.Mechanisms(rest);
        }
    }

    private void Answer(Pop3PendingCommand command, bool ok, long t)
    {
        Settle(command, ok ? AuthOutcome.Success : AuthOutcome.Failure);
        if (!ok) return;
        _server = command.Kind switch
        {
            Pop3CommandKind.MultiLine => Pop3ServerState.Body,
            Pop3CommandKind.Capa => Pop3ServerState.CapaList,
            Pop3CommandKind.Stls => Pop3ServerState.Tls, // RFC 2595 §4: TLS negotiation starts after the +OK
            _ => _server,
        };
        if (command.Kind == Pop3CommandKind.Capa) (_capaOffersStls, _capaNames) = (false, MailCapabilities.None);
    }

    private Pop3PendingCommand DequeueOldest()
    {
        if (_orderLost && _pairable > 0) _pairable--;
        return _pending.Dequeue();
    }

    private void LoseOrder(int pairable)
    {
        _orderLost = true;
        _pairable = pairable;
    }

    private void SettleAll(AuthOutcome outcome)
    {
        while (_pending.TryDequeue(out var p)) Settle(p, outcome);
        _pairable = 0;
    }

    /// <summary>A command's answer (or Unknown when it will never be known). Only an answered command is proven.</summary>
    private void Settle(Pop3PendingCommand p, AuthOutcome outcome)
    {
        switch (p.Kind)
        {
            case Pop3CommandKind.User:
                if (outcome != AuthOutcome.Unknown && ReferenceEquals(p.Username, _user.Name))
                {
                    _user.Answer = outcome;
                    _user.Unproven = false;
                }
                break;
            case Pop3CommandKind.Pass:
                if (Proven(p)) EmitAuth(p.TimestampNs, "USER", p.Username, p.Secret, CredentialExposure.Cleartext, outcome);
                break;
            case Pop3CommandKind.Apop:
                if (Proven(p)) EmitAuth(p.TimestampNs, "APOP", p.Username, p.Secret, CredentialExposure.Hashed, outcome);
                break;
            case Pop3CommandKind.Auth:
                if (_sasl == p.Sasl) _sasl = null;
                if (Proven(p)) EmitSaslAuth(p.Sasl!.LastClientLineNs, p.Sasl, outcome);
                break;
            case Pop3CommandKind.Stls:
                if (!p.Unproven) EmitStartTls(p.TimestampNs, outcome);
                break;
        }
    }

    private bool Proven(in Pop3PendingCommand p)
    {
        if (!p.Unproven) return true;
        Context.Counters.CredentialsUnproven++;
        return false;
    }

    /// <summary>
    /// A USER that no PASS followed (refused, or the connection ended): an attempt all the same — a
    /// client set up to log in without TLS — but no password crossed.
    /// </summary>
    private void FinishUser()
    {
        if (!_user.AwaitingPass) return;
        _user.AwaitingPass = false;
        if (_user.Unproven)
        {
            Context.Counters.CredentialsUnproven++;
            return;
        }
        EmitAuth(_user.TimestampNs, "USER", _user.Name, null, CredentialExposure.None,
            _user.Answer == AuthOutcome.Failure ? AuthOutcome.Failure : AuthOutcome.Unknown);
    }

    /// <summary>
    /// A SASL response is base64 (RFC 5034 §4) and never holds a space: a line of a keyword and an
    /// argument is a command, so the exchange ended without our seeing its answer. So is a bare POP3
    /// keyword: as base64 each would decode to three bytes of binary that no mechanism sends.
    /// </summary>
    private static bool IsCommandNotResponse(ReadOnlySpan<byte> line)
    {
        var rest = line;
        var word = AsciiText.NextWord(ref rest);
        if (!IsKeyword(word)) return false;
        return !AsciiText.TrimSpaces(rest).IsEmpty || IsKnownCommand(word);
    }

    private static bool IsKnownCommand(ReadOnlySpan<byte> k) =>
        Is(k, "USER"u8) || Is(k, "PASS"u8) || Is(k, "APOP"u8) || Is(k, "AUTH"u8) || Is(k, "CAPA"u8) || Is(k, "STLS"u8)
        || Is(k, "STAT"u8) || Is(k, "LIST"u8) || Is(k, "RETR"u8) || Is(k, "DELE"u8) || Is(k, "NOOP"u8) || Is(k, "RSET"u8)
        || Is(k, "QUIT"u8) || Is(k, "TOP"u8) || Is(k, "UIDL"u8);

    private static bool Is(ReadOnlySpan<byte> keyword, ReadOnlySpan<byte> upper) => AsciiText.EqualsIgnoreCase(keyword, upper);

    /// <summary>POP3 keywords are 3 or 4 printable characters (RFC 1939 §3); RFC 2449 allows up to 40 for extensions.</summary>
    private static bool IsKeyword(ReadOnlySpan<byte> k)
    {
        if (k.Length < 3 || k.Length > 40) return false;
        foreach (var c in k)
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
        return true;
    }
}
