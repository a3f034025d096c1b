using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Core.Sasl;
using Sensor.Core.Text;

namespace Sensor.Core.Smtp;

/// <summary>
/// An SMTP connection (RFC 5321; AUTH RFC 4954, PIPELINING RFC 2920, CHUNKING RFC 3030, STARTTLS
/// RFC 3207) watched from the wire. Every client line is a command that draws exactly one reply
/// (multi-line replies end at the line whose code is followed by a space, §4.2.1), and replies come
/// in order, so commands queue and each reply answers the oldest: pipelining clients are followed.
/// 334 lines are an AUTH's challenges, not its answer. Message bodies are never read as commands:
/// DATA's is skipped to its "." line, BDAT chunks by their length.
///
/// Loss. Like POP3, SMTP pairs replies with commands by position only: after a gap nothing is paired
/// beyond the commands queued before a client-side loss, until a probe (a lone command answered by a
/// reply that begins a server segment and fits it) finds the order again. Client bytes lost may have
/// held a DATA whose body then reads as commands: a credential read after a client-side loss is
/// reported only once a reply proves it was a command. Bytes lost inside a BDAT chunk only shorten
/// it; inside a DATA body the body goes on to its "." line, or until the server answers (which it
/// does only once it has the whole body).
/// </summary>
public sealed class SmtpSession : MailSession
{
    private readonly LineAssembler _clientLines;
    private readonly LineAssembler _serverLines;
    private readonly Queue<SmtpPendingCommand> _pending = new(4);
    private SmtpClientState _client = SmtpClientState.Command;
    private SmtpServerState _server = SmtpServerState.Greeting;

    /// <summary>The AUTH whose exchange is going on: client lines are its responses (RFC 4954 §4).</summary>
    private SaslExchange? _sasl;

    // The message body after DATA (client state DataBody): entered at the DATA command, before its 354,
    // since a client sends the body only after the 354 (RFC 2920 §3.1: DATA ends a pipelined group).
    private DataBodyScanner _body;
    private long _bodyBytes;
    private bool _bodyConfirmed;   // the 354 was seen
    private bool _bodyEndUnseen;   // client bytes were lost inside it: its "." may have been among them
    private long _chunkToSkip;     // BDAT bytes still to come

    // The reply being read (multi-line replies, RFC 5321 §4.2.1).
    private bool _inReply;
    private int _replyCode;
    private int _replyLines;
    private bool _replyStartsSegment;
    private SmtpExtensions _extensions;

    // The order of replies, as in Pop3Session: while _orderLost only the first _pairable queued
    // commands (queued before the loss) are still answered in order.
    private bool _orderLost;
    private int _pairable;
    /// <summary>Client bytes were lost and no reply has confirmed a later command yet.</summary>
    private bool _clientUnproven;

    public SmtpSession(TcpFlow flow, AnalysisContext context) : base(flow, context, AppProtocol.Smtp)
    {
        _clientLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        _serverLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        if (!flow.RolesFromHandshake)
        {
            // The capture began mid-connection: the replies owed are unknown, and the client may be
            // inside a message body whose DATA came before the capture.
            _server = SmtpServerState.Reply;
            _clientUnproven = true;
            LoseOrder(pairable: 0);
        }
    }

    public override bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        if (_server == SmtpServerState.Tls) return false;
        if (direction == StreamDirection.ClientToServer) ReadClient(data, timestampNs);
        else ReadServer(data, timestampNs);
        return _server != SmtpServerState.Tls;
    }

    public override void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        if (_server == SmtpServerState.Tls) return;
        if (direction == StreamDirection.ClientToServer) OnClientGap(skippedBytes);
        else OnServerGap();
    }

    private void OnClientGap(long skipped)
    {
        switch (_client)
        {
            case SmtpClientState.BdatChunk when _chunkToSkip >= skipped:
                // Inside a chunk of known length: the framing survives (RFC 3030 §2).
                _chunkToSkip -= skipped;
                if (_chunkToSkip == 0) _client = SmtpClientState.Command;
                return;
            case SmtpClientState.DataBody:
                // The body goes on to a "." line; one that was lost is noticed by the server's reply.
                _body.Lost();
                _bodyEndUnseen = true;
                _clientUnproven = true;
                LoseOrder(pairable: _orderLost ? _pairable : _pending.Count);
                return;
        }
        _clientLines.Resynchronize();
        // The lost bytes may have held commands, or a DATA and the start of its body. Their replies
        // come after those owed to the commands queued now, which therefore still pair by position.
        if (_client == SmtpClientState.SaslResponses) _sasl!.MarkDamaged();
        else _client = SmtpClientState.Command;
        _chunkToSkip = 0;
        _clientUnproven = true;
        LoseOrder(pairable: _orderLost ? _pairable : _pending.Count);
    }

    private void OnServerGap()
    {
        _serverLines.Resynchronize();
        _inReply = false;
        // The lost bytes may have held any owed reply: every queued command's answer is unknown, but
        // for an AUTH still exchanging. Its client sends nothing else before the AUTH's final reply,
        // so while it goes on answering challenges the exchange is not over, and a lone reply at a
        // segment start is its answer (the probe). Not when client bytes of the exchange were lost.
        SmtpPendingCommand? exchanging = null;
        while (_pending.TryDequeue(out var p))
        {
            if (p.Kind == SmtpCommandKind.Auth && _client == SmtpClientState.SaslResponses && p.Sasl == _sasl && !_sasl!.Damaged)
                exchanging = p;
            else Settle(p, AuthOutcome.Unknown);
        }
        if (exchanging is { } auth) _pending.Enqueue(auth);
        if (_server == SmtpServerState.Greeting) _server = SmtpServerState.Reply;
        LoseOrder(pairable: 0);
    }

    public override void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs)
    {
        if (_server == SmtpServerState.Tls || direction != StreamDirection.ClientToServer) return;
        // The server has client bytes we have not: the reply coming may be to a command we never saw,
        // after the replies owed to what is queued. A probe queued after a loss proves nothing any more.
        if (_client == SmtpClientState.SaslResponses) _sasl!.MarkDamaged();
        if (_client == SmtpClientState.DataBody)
        {
            // They may hold the body's end: the reply that follows would show it (the gap comes later).
            _bodyEndUnseen = true;
            _clientUnproven = true;
        }
        if (_orderLost && _pairable == 0) SettleAll(AuthOutcome.Unknown);
        else LoseOrder(pairable: _orderLost ? _pairable : _pending.Count);
    }

    public override void OnClose(long timestampNs)
    {
        SettleAll(AuthOutcome.Unknown);
        _clientLines.Release();
        _serverLines.Release();
    }

    // ------------------------------------------------------------------ client

    private void ReadClient(ReadOnlySpan<byte> data, long t)
    {
        if (_client is SmtpClientState.Command or SmtpClientState.SaslResponses && _clientLines.AtLineStart && TurnedToTls(data))
        {
            _server = SmtpServerState.Tls;
            return;
        }
        while (!data.IsEmpty && _server != SmtpServerState.Tls)
        {
            switch (_client)
            {
                case SmtpClientState.DataBody:
                {
                    int n = _body.Scan(data, out bool ended);
                    _bodyBytes += n;
                    Context.Counters.MessageBodyBytesSkipped += n;
                    data = data[n..];
                    if (ended) EndBody(t);
                    continue;
                }
                case SmtpClientState.BdatChunk:
                {
                    int n = (int)Math.Min(_chunkToSkip, data.Length);
                    _chunkToSkip -= n;
                    Context.Counters.MessageBodyBytesSkipped += n;
                    data = data[n..];
                    if (_chunkToSkip == 0) _client = SmtpClientState.Command;
                    continue;
                }
            }
            var status = _clientLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                // Still one line the server answers (RFC 5321 §4.5.3.1.4 bounds it; servers reply 500).
                Context.Counters.LinesTooLong++;
                if (_client == SmtpClientState.SaslResponses) _sasl!.MarkMalformed();
                else Enqueue(SmtpCommandKind.Other, t);
                continue;
            }
            OnClientLine(line, t);
        }
    }

    private void OnClientLine(ReadOnlySpan<byte> line, long t)
    {
        if (_client == SmtpClientState.SaslResponses)
        {
            var exchange = _sasl!;
            if (!IsCommandNotResponse(line))
            {
                exchange.AddClientLine(line);
                exchange.LastClientLineNs = t;
                // "*" (RFC 4954 §4): the 501 that follows settles the AUTH.
                if (exchange.Cancelled) _client = SmtpClientState.Command;
                return;
            }
            // A command where a response was due: the exchange ended unseen (its reply lost). Its AUTH
            // waits no longer when the order is lost already; otherwise the next reply is still its own.
            _client = SmtpClientState.Command;
            if (_orderLost && _pairable == 0) SettleAll(AuthOutcome.Unknown);
        }

        var verb = SmtpGrammar.Verb(line, out var args);
        if (SmtpGrammar.Is(verb, "AUTH"u8))
        {
            var mechanism = AsciiText.NextWord(ref args);
            if (mechanism.IsEmpty)
            {
                Enqueue(SmtpCommandKind.Other, t); // answered 501 (RFC 4954 §4)
                return;
            }
            var sasl = new SaslExchange(AsciiText.ToUpperString(mechanism)) { LastClientLineNs = t };
            var initial = AsciiText.TrimSpaces(args);
            if (!initial.IsEmpty) sasl.AddClientLine(initial); // initial-response, "=" when empty (RFC 4954 §4)
            Enqueue(SmtpCommandKind.Auth, t, sasl);
            _sasl = sasl;
            _client = sasl.Cancelled ? SmtpClientState.Command : SmtpClientState.SaslResponses;
        }
        else if (SmtpGrammar.Is(verb, "EHLO"u8))
        {
            Enqueue(SmtpCommandKind.Ehlo, t);
        }
        else if (SmtpGrammar.Is(verb, "STARTTLS"u8) && AsciiText.TrimSpaces(args).IsEmpty)
        {
            Enqueue(SmtpCommandKind.StartTls, t);
        }
        else if (SmtpGrammar.Is(verb, "DATA"u8) && AsciiText.TrimSpaces(args).IsEmpty)
        {
            Enqueue(SmtpCommandKind.Data, t);
            BeginBody(confirmed: false);
        }
        else if (SmtpGrammar.Is(verb, "BDAT"u8))
        {
            Enqueue(SmtpCommandKind.Other, t);
            if (SmtpGrammar.TryParseBdat(args, out long size, out _))
            {
                Context.Counters.MessageBodiesSkipped++;
                _chunkToSkip = size;
                if (size > 0) _client = SmtpClientState.BdatChunk;
            }
            else
            {
                // The server cannot tell the chunk's end either; what follows may be chunk bytes.
                Context.Counters.MalformedLines++;
                _clientUnproven = true;
            }
        }
        else
        {
            // Every other line, unknown or empty, draws one reply too (RFC 5321 §4.2.4: 500).
            Enqueue(SmtpCommandKind.Other, t);
        }
    }

    private void BeginBody(bool confirmed)
    {
        _client = SmtpClientState.DataBody;
        _body.Begin();
        _bodyBytes = 0;
        _bodyConfirmed = confirmed;
        _bodyEndUnseen = false;
    }

    /// <summary>The body's "." line: the server answers the message with one reply (RFC 5321 §4.1.1.4).</summary>
    private void EndBody(long t)
    {
        _client = SmtpClientState.Command;
        Context.Counters.MessageBodiesSkipped++;
        Enqueue(SmtpCommandKind.Other, t);
    }

    private void Enqueue(SmtpCommandKind kind, long t, SaslExchange? sasl = null)
    {
        if (_pending.Count >= Context.Options.MaxPendingCommands)
        {
            Context.Counters.PendingCommandOverflows++;
            Settle(DequeueOldest(), AuthOutcome.Unknown);
        }
        _pending.Enqueue(new SmtpPendingCommand(kind, t, _clientUnproven, sasl));
    }

    /// <summary>
    /// A SASL response is base64 (RFC 4954 §4) and never holds a space: a verb with arguments is a
    /// command, so the exchange ended without our seeing its reply. So is a bare SMTP verb.
    /// </summary>
    private static bool IsCommandNotResponse(ReadOnlySpan<byte> line)
    {
        var word = SmtpGrammar.Verb(line, out var rest);
        if (word.IsEmpty) return false;
        if (AsciiText.TrimSpaces(rest).IsEmpty) return SmtpGrammar.IsKnownVerb(word);
        foreach (var c in word)
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
        return true;
    }

    // ------------------------------------------------------------------ server

    private void ReadServer(ReadOnlySpan<byte> data, long t)
    {
        bool segmentStart = _serverLines.AtLineStart;
        if (segmentStart && !_inReply && TurnedToTls(data))
        {
            _server = SmtpServerState.Tls;
            return;
        }
        while (!data.IsEmpty && _server != SmtpServerState.Tls)
        {
            bool startsSegment = segmentStart;
            segmentStart = false;
            var status = _serverLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                Context.Counters.LinesTooLong++;
                continue;
            }
            OnServerLine(line, t, startsSegment);
        }
    }

    private void OnServerLine(ReadOnlySpan<byte> line, long t, bool startsSegment)
    {
        if (!SmtpGrammar.TryParseReply(line, out int code, out bool last, out var text))
        {
            Context.Counters.MalformedLines++;
            return;
        }
        if (!_inReply)
        {
            _inReply = true;
            _replyCode = code;
            _replyLines = 0;
            _replyStartsSegment = startsSegment;
            _extensions = default;
        }
        else if (code != _replyCode)
        {
            Context.Counters.MalformedLines++; // every line of a reply has its code (RFC 5321 §4.2.1)
        }
        // An EHLO reply's first line is the server's name; each later line an extension (§4.1.1.1).
        if (_replyLines > 0 && code == 250) SmtpGrammar.ReadEhloLine(text, ref _extensions);
        _replyLines++;
        if (!last) return;
        _inReply = false;
        OnReply(_replyCode, text, t, _replyStartsSegment);
    }

    private void OnReply(int code, ReadOnlySpan<byte> text, long t, bool startsSegment)
    {
        if (_server == SmtpServerState.Greeting)
        {
            _server = SmtpServerState.Reply; // 220, or 554 from a server that will refuse everything
            return;
        }
        if (code == 334)
        {
            OnChallenge(text);
            return;
        }
        if (code == 354) OnStartMailInput();
        else if (_client == SmtpClientState.DataBody && _bodyConfirmed && _bodyEndUnseen)
        {
            // The server answers after the body's end only: it was among the lost client bytes.
            _client = SmtpClientState.Command;
            _clientLines.Resynchronize();
            Context.Counters.MessageBodiesSkipped++;
            Enqueue(SmtpCommandKind.Other, t);
        }

        if (_orderLost && _pairable == 0)
        {
            OnReplyWithOrderLost(code, t, startsSegment);
            return;
        }
        if (_pending.Count == 0)
        {
            // 421 may come unasked when the server shuts the connection (RFC 5321 §3.8).
            if (code == 421) return;
            // A reply to nothing asked: a command was lost before the reassembler could tell.
            Context.Counters.UnmatchedResponses++;
            LoseOrder(pairable: 0);
            return;
        }
        Answer(DequeueOldest(), code, t);
    }

    /// <summary>"334" SP base64 (RFC 4954 §4): a challenge of the AUTH at the head of the queue.</summary>
    private void OnChallenge(ReadOnlySpan<byte> text)
    {
        if (_pending.TryPeek(out var head) && head.Kind == SmtpCommandKind.Auth && head.Sasl == _sasl
            && (!_orderLost || _pairable > 0 || _pending.Count == 1))
        {
            _sasl!.AddServerChallenge(text);
            return;
        }
        if (_orderLost) Context.Counters.AnswersAfterLoss++;
        else Context.Counters.UnmatchedResponses++;
    }

    /// <summary>
    /// 354 answers DATA only (RFC 5321 §4.2.2, §4.3.2): the client's next bytes are a message body,
    /// also when its DATA was among lost bytes.
    /// </summary>
    private void OnStartMailInput()
    {
        if (_client == SmtpClientState.DataBody) _bodyConfirmed = true;
        else if (_client == SmtpClientState.Command && _clientLines.AtLineStart) BeginBody(confirmed: true);
    }

    /// <summary>
    /// Suricata's probe-then-resume, as in Pop3Session: after a loss a reply is paired only with a lone
    /// queued command (the client waited for the replies before it), only when it begins a server
    /// segment, and only when it is a reply that command can draw. That proves the command and restores
    /// the order. Several commands queued cannot be told apart and end unknown.
    /// </summary>
    private void OnReplyWithOrderLost(int code, long t, bool startsSegment)
    {
        if (_pending.Count == 1 && startsSegment && Fits(_pending.Peek().Kind, code))
        {
            var probe = _pending.Dequeue();
            _orderLost = false;
            _clientUnproven = false;
            Context.Counters.AnswerOrderRecovered++;
            Answer(probe with { Unproven = false }, code, t);
            return;
        }
        if (_pending.Count > 1) SettleAll(AuthOutcome.Unknown);
        Context.Counters.AnswersAfterLoss++;
    }

    /// <summary>Whether a command of this kind can draw this final reply (RFC 5321 §4.3.2, RFC 4954 §6, RFC 3207 §4).</summary>
    private static bool Fits(SmtpCommandKind kind, int code) => code >= 400 || kind switch
    {
        SmtpCommandKind.Auth => code == 235,
        SmtpCommandKind.StartTls => code == 220,
        SmtpCommandKind.Data => code == 354,
        SmtpCommandKind.Ehlo => code == 250,
        _ => code != 354 && code != 334,
    };

    private void Answer(SmtpPendingCommand command, int code, long t)
    {
        switch (command.Kind)
        {
            case SmtpCommandKind.Auth:
                // 235 success; 535, 534, 538, 454, 432, 501, 503, 504 ... failure (RFC 4954 §6).
                Settle(command, code == 235 ? AuthOutcome.Success : code >= 400 ? AuthOutcome.Failure : AuthOutcome.Unknown);
                return;
            case SmtpCommandKind.StartTls:
                Settle(command, code == 220 ? AuthOutcome.Success : AuthOutcome.Failure);
                // RFC 3207 §4: TLS negotiation begins right after the 220; any other reply (454) leaves cleartext.
                if (code == 220) _server = SmtpServerState.Tls;
                return;
            case SmtpCommandKind.Data:
                // Refused (no valid recipients, 554/503): no body follows. One that the client sent all
                // the same is skipped to its end rather than read as commands.
                if (code != 354 && _client == SmtpClientState.DataBody && _bodyBytes == 0) _client = SmtpClientState.Command;
                return;
            case SmtpCommandKind.Ehlo:
                if (code == 250) RecordCapabilities(_extensions.StartTls, loginDisabled: false, _extensions.Names, authBeforeStartTls: _extensions.Auth);
                return;
        }
    }

    private SmtpPendingCommand DequeueOldest()
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
    private void Settle(SmtpPendingCommand p, AuthOutcome outcome)
    {
        switch (p.Kind)
        {
            case SmtpCommandKind.Auth:
                if (_sasl == p.Sasl)
                {
                    _sasl = null;
                    if (_client == SmtpClientState.SaslResponses) _client = SmtpClientState.Command;
                }
                if (p.Unproven)
                {
                    Context.Counters.CredentialsUnproven++;
                    return;
                }
                EmitSaslAuth(p.Sasl!.LastClientLineNs, p.Sasl, outcome);
                return;
            case SmtpCommandKind.StartTls:
                if (!p.Unproven) EmitStartTls(p.TimestampNs, outcome);
                return;
        }
    }
}
