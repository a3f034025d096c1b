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
/// </summary>
public sealed class Pop3Session : MailSession
{
    private readonly LineAssembler _clientLines;
    private readonly LineAssembler _serverLines;
    private readonly Queue<Pop3PendingCommand> _pending = new(4);
    private string? _user;                       // the last USER argument on this connection
    private SaslExchange? _authenticating;        // AUTH in progress: client lines are SASL responses
    private SaslExchange? _lastSasl;              // the latest AUTH's exchange, even once cancelled
    private long _lastSaslLineNs;                 // when its client last answered: the attempt's time
    private bool _greetingSeen;
    private bool _inMultiLine;
    private bool _readingCapa;
    private bool _capaOffersStls;
    private bool _tls;

    public Pop3Session(TcpFlow flow, AnalysisContext context) : base(flow, context, AppProtocol.Pop3)
    {
        _clientLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        _serverLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
    }

    public override bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        var lines = direction == StreamDirection.ClientToServer ? _clientLines : _serverLines;
        while (!data.IsEmpty && !_tls)
        {
            var status = lines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) break;
            if (status == LineStatus.TooLong)
            {
                if (!_inMultiLine || direction == StreamDirection.ClientToServer) Context.Counters.LinesTooLong++;
                continue;
            }
            if (direction == StreamDirection.ClientToServer) OnClientLine(line, timestampNs);
            else OnServerLine(line, timestampNs);
        }
        return !_tls;
    }

    public override void OnGap(StreamDirection direction, long skippedBytes, long timestampNs) =>
        (direction == StreamDirection.ClientToServer ? _clientLines : _serverLines).Resynchronize();

    public override void OnClose(long timestampNs)
    {
        while (_pending.TryDequeue(out var p)) Settle(p, AuthOutcome.Unknown);
        _clientLines.Release();
        _serverLines.Release();
    }

    private void OnClientLine(ReadOnlySpan<byte> line, long t)
    {
        if (_authenticating is { } auth)
        {
            auth.AddClientLine(line);
            _lastSaslLineNs = t;
            if (auth.Cancelled) _authenticating = null;
            return;
        }
        if (line.IsEmpty) return;
        var args = line;
        var keyword = AsciiText.NextWord(ref args);
        if (!IsKeyword(keyword))
        {
            Context.Counters.MalformedLines++;
            return;
        }

        Pop3PendingCommand command;
        if (Is(keyword, "USER"u8))
        {
            _user = AsciiText.Decode(args);
            command = new Pop3PendingCommand(Pop3CommandKind.User, t);
        }
        else if (Is(keyword, "PASS"u8))
        {
            // The whole rest of the line is the password: servers accept spaces in it (RFC 1939 §7).
            command = new Pop3PendingCommand(Pop3CommandKind.Pass, t, _user, Reveal ? AsciiText.Decode(args) : null);
        }
        else if (Is(keyword, "APOP"u8))
        {
            // APOP name digest (RFC 1939 §7): an MD5 over the greeting's timestamp and the secret.
            var name = AsciiText.NextWord(ref args);
            command = new Pop3PendingCommand(Pop3CommandKind.Apop, t, AsciiText.Decode(name),
                Reveal ? AsciiText.Decode(AsciiText.TrimSpaces(args)) : null);
        }
        else if (Is(keyword, "AUTH"u8))
        {
            var mechanism = AsciiText.NextWord(ref args);
            if (mechanism.IsEmpty)
            {
                // Bare AUTH lists mechanisms in a multi-line +OK on servers that support it.
                command = new Pop3PendingCommand(Pop3CommandKind.MultiLine, t);
            }
            else
            {
                var sasl = new SaslExchange(AsciiText.ToUpperString(mechanism));
                var initial = AsciiText.TrimSpaces(args);
                if (!initial.IsEmpty) sasl.AddClientLine(initial); // initial-response (RFC 5034 §4)
                command = new Pop3PendingCommand(Pop3CommandKind.Auth, t, Sasl: sasl);
                _authenticating = _lastSasl = sasl;
                _lastSaslLineNs = t;
            }
        }
        else if (Is(keyword, "CAPA"u8)) command = new Pop3PendingCommand(Pop3CommandKind.Capa, t);
        else if (Is(keyword, "STLS"u8)) command = new Pop3PendingCommand(Pop3CommandKind.Stls, t);
        else if (Is(keyword, "RETR"u8) || Is(keyword, "TOP"u8)
                 || ((Is(keyword, "LIST"u8) || Is(keyword, "UIDL"u8)) && AsciiText.TrimSpaces(args).IsEmpty))
            command = new Pop3PendingCommand(Pop3CommandKind.MultiLine, t);
        else
            command = new Pop3PendingCommand(Pop3CommandKind.SingleLine, t);

        if (_pending.Count >= Context.Options.MaxPendingCommands)
        {
            Context.Counters.PendingCommandOverflows++;
            Settle(_pending.Dequeue(), AuthOutcome.Unknown);
        }
        _pending.Enqueue(command);
    }

    private void OnServerLine(ReadOnlySpan<byte> line, long t)
    {
        if (_inMultiLine)
        {
            if (line.Length == 1 && line[0] == (byte)'.')
            {
                _inMultiLine = false;
                if (_readingCapa) { _readingCapa = false; RecordCapabilities(_capaOffersStls, loginDisabled: false); }
            }
            else if (_readingCapa && AsciiText.EqualsIgnoreCase(AsciiText.TrimSpaces(line), "STLS"u8))
            {
                _capaOffersStls = true; // RFC 2595 §4: STLS capability
            }
            return;
        }

        bool ok = AsciiText.StartsWithIgnoreCase(line, "+OK"u8);
        bool err = !ok && AsciiText.StartsWithIgnoreCase(line, "-ERR"u8);
        if (!ok && !err)
        {
            if (line[0..Math.Min(1, line.Length)].SequenceEqual("+"u8) && _authenticating is { } auth)
            {
                auth.AddServerChallenge(line[1..]); // "+ " base64 challenge (RFC 5034 §4)
                return;
            }
            if (!line.IsEmpty) Context.Counters.MalformedLines++;
            return;
        }

        if (!_pending.TryDequeue(out var command))
        {
            if (_greetingSeen) Context.Counters.UnmatchedResponses++;
            _greetingSeen = true;
            return;
        }
        _greetingSeen = true;
        Settle(command, ok ? AuthOutcome.Success : AuthOutcome.Failure);
        if (!ok) return;
        switch (command.Kind)
        {
            case Pop3CommandKind.MultiLine:
                _inMultiLine = true;
                break;
            case Pop3CommandKind.Capa:
                _inMultiLine = _readingCapa = true;
                _capaOffersStls = false;
                break;
            case Pop3CommandKind.Stls:
                _tls = true; // RFC 2595 §4: TLS negotiation starts after the +OK
                break;
        }
    }

    private void Settle(Pop3PendingCommand p, AuthOutcome outcome)
    {
        switch (p.Kind)
        {
            case Pop3CommandKind.Pass:
                EmitAuth(p.TimestampNs, "USER", p.Username, p.Secret, CredentialExposure.Cleartext, outcome);
                break;
            case Pop3CommandKind.Apop:
                EmitAuth(p.TimestampNs, "APOP", p.Username, p.Secret, CredentialExposure.Hashed, outcome);
                break;
            case Pop3CommandKind.Auth:
                if (_authenticating == p.Sasl) _authenticating = null;
                EmitSaslAuth(p.Sasl == _lastSasl ? _lastSaslLineNs : p.TimestampNs, p.Sasl!, outcome);
                break;
            case Pop3CommandKind.Stls:
                EmitStartTls(p.TimestampNs, outcome);
                break;
        }
    }

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
