using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Sensor.Core.Sasl;
using Sensor.Core.Text;

namespace Sensor.Core.Imap;

/// <summary>
/// An IMAP4rev1/rev2 connection (RFC 3501, RFC 9051) watched from the wire. Both directions are
/// framed into lines with literals skipped by length, never scanned, so a message body that
/// contains "a1 LOGIN x y" is never taken for a command. Commands and their tagged completions
/// are matched by tag, so pipelined clients (RFC 3501 §5.5) are followed.
///
/// Loss. A gap inside a literal only shortens it. Anywhere else the framing of that direction is
/// no longer known: after lost client bytes a line may belong to a message body whose literal
/// announcement was lost, so a command read from then on is unproven until the server answers its
/// tag (which proves it and every later command read in the same stretch). Tags keep pairing
/// answers with commands across any loss; an unproven credential that is never answered is not
/// reported. An AUTHENTICATE whose completion was lost ends when the client sends a command.
/// </summary>
public sealed class ImapSession : MailSession
{
    private readonly LineAssembler _clientLines;
    private readonly LineAssembler _serverLines;
    private readonly List<ImapPendingCommand> _pending = new(2);

    // Client direction
    private ImapClientState _client;
    private long _clientLiteralToSkip;
    private CredentialCommand? _login;           // a LOGIN whose arguments include a literal, held as on the wire
    private int _loginLiteralRemaining;
    private ImapPendingCommand? _authenticating; // its SASL exchange takes the client lines
    private bool _clientUnproven;                // client bytes were lost and no answer has proved a later command
    private int _clientEpoch;                    // counts client-side losses

    // Server direction
    private ImapServerState _server;
    private long _serverLiteralToSkip;
    private ImapCapabilities _capabilities;

    public ImapSession(TcpFlow flow, AnalysisContext context) : base(flow, context, AppProtocol.Imap)
    {
        _clientLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        _serverLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        // The capture began mid-connection: what came before is as unknown as a gap.
        _clientUnproven = !flow.RolesFromHandshake;
    }

    public override bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        if (_server == ImapServerState.Tls) return false;
        bool fromClient = direction == StreamDirection.ClientToServer;
        if (AtLineStart(fromClient) && TurnedToTls(data))
        {
            _server = ImapServerState.Tls;
            return false;
        }
        if (fromClient) ReadClient(data, timestampNs);
        else ReadServer(data, timestampNs);
        return _server != ImapServerState.Tls;
    }

    /// <summary>The next byte of that direction would start a line (not inside a literal or a line).</summary>
    private bool AtLineStart(bool fromClient) => fromClient
        ? _client is ImapClientState.Command or ImapClientState.SaslResponses && _clientLines.AtLineStart
        : _server == ImapServerState.Response && _serverLines.AtLineStart;

    public override void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        if (_server == ImapServerState.Tls) return;
        if (direction == StreamDirection.ClientToServer) OnClientGap(skippedBytes);
        else OnServerGap(skippedBytes);
    }

    public override void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs)
    {
        // Tags keep pairing answers; only a SASL exchange can no longer tell an abort ("*") from a refusal.
        if (direction == StreamDirection.ClientToServer && _client == ImapClientState.SaslResponses)
            _authenticating!.Sasl!.MarkDamaged();
    }

    private void OnClientGap(long skipped)
    {
        switch (_client)
        {
            case ImapClientState.Literal when _clientLiteralToSkip >= skipped:
                // Inside a literal of known length: the framing survives.
                _clientLiteralToSkip -= skipped;
                if (_clientLiteralToSkip == 0) _client = ImapClientState.CommandContinues;
                return;
            case ImapClientState.LoginLiteral when _loginLiteralRemaining >= skipped:
                // Part of a credential literal is gone: forget the LOGIN, skip the rest of it.
                _login = null;
                _clientLiteralToSkip = _loginLiteralRemaining - skipped;
                _loginLiteralRemaining = 0;
                _client = _clientLiteralToSkip == 0 ? ImapClientState.CommandContinues : ImapClientState.Literal;
                return;
        }
        _clientLines.Resynchronize();
        _login = null;
        _loginLiteralRemaining = 0;
        _clientLiteralToSkip = 0;
        _clientUnproven = true;
        _clientEpoch++;
        if (_client == ImapClientState.SaslResponses) _authenticating!.Sasl!.MarkDamaged();
        else _client = ImapClientState.Command;
    }

    private void OnServerGap(long skipped)
    {
        if (_server == ImapServerState.Literal && _serverLiteralToSkip >= skipped)
        {
            _serverLiteralToSkip -= skipped;
            if (_serverLiteralToSkip == 0) _server = ImapServerState.ResponseContinues;
            return;
        }
        // Tags still pair what arrives with what was asked; only the current line is lost.
        _serverLines.Resynchronize();
        _serverLiteralToSkip = 0;
        _server = ImapServerState.Response;
    }

    public override void OnClose(long timestampNs)
    {
        foreach (var p in _pending) Settle(p, AuthOutcome.Unknown);
        _pending.Clear();
        _clientLines.Release();
        _serverLines.Release();
    }

    private void ReadClient(ReadOnlySpan<byte> data, long t)
    {
        while (!data.IsEmpty && _server != ImapServerState.Tls)
        {
            switch (_client)
            {
                case ImapClientState.Literal:
                {
                    int n = (int)Math.Min(_clientLiteralToSkip, data.Length);
                    _clientLiteralToSkip -= n;
                    Context.Counters.LiteralBytesSkipped += n;
                    data = data[n..];
                    if (_clientLiteralToSkip == 0) _client = ImapClientState.CommandContinues;
                    continue;
                }
                case ImapClientState.LoginLiteral:
                {
                    int n = Math.Min(_loginLiteralRemaining, data.Length);
                    _login!.Append(data[..n]);
                    _loginLiteralRemaining -= n;
                    data = data[n..];
                    if (_loginLiteralRemaining == 0) _client = ImapClientState.LoginContinues;
                    continue;
                }
            }
            var status = _clientLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                Context.Counters.LinesTooLong++;
                _login = null;
                if (_client != ImapClientState.SaslResponses) _client = ImapClientState.Command;
                continue;
            }
            OnClientLine(line, t);
        }
    }

    private void OnClientLine(ReadOnlySpan<byte> line, long t)
    {
        switch (_client)
        {
            case ImapClientState.LoginContinues:
                ContinueLogin(line, t);
                return;
            case ImapClientState.CommandContinues:
                SkipLiteralAtEnd(line);
                return;
            case ImapClientState.SaslResponses:
                var sasl = _authenticating!.Sasl!;
                if (!IsCommandNotResponse(line))
                {
                    // Client lines of a SASL exchange until the tagged completion (RFC 3501 §6.2.2).
                    sasl.AddClientLine(line);
                    sasl.LastClientLineNs = t;
                    if (sasl.Cancelled) EndSaslResponses();
                    return;
                }
                EndSaslResponses(); // the completion was lost; the AUTHENTICATE still waits for its tag
                break;
        }
        if (line.IsEmpty) return;

        if (!ImapGrammar.TryParseTag(line, out var tag, out var rest))
        {
            Context.Counters.MalformedLines++;
            return;
        }
        var command = AsciiText.NextWord(ref rest);
        if (AsciiText.EqualsIgnoreCase(command, "LOGIN"u8))
        {
            if (ImapGrammar.EndsWithLiteral(line, out long n))
            {
                _login = new CredentialCommand(Context.Options.MaxCredentialLiteral * 2 + Context.Options.MaxLineLength);
                _login.Append(line);
                _login.Append("\r\n"u8);
                StartLoginLiteral(n);
            }
            else
            {
                CompleteLogin(line, t);
            }
        }
        else if (AsciiText.EqualsIgnoreCase(command, "AUTHENTICATE"u8))
        {
            var mechanism = AsciiText.NextWord(ref rest);
            if (mechanism.IsEmpty) { Context.Counters.MalformedLines++; return; }
            var sasl = new SaslExchange(AsciiText.ToUpperString(mechanism)) { LastClientLineNs = t };
            var initial = AsciiText.TrimSpaces(rest);
            if (!initial.IsEmpty) sasl.AddClientLine(initial); // SASL-IR (RFC 4959)
            var pending = NewPending(tag, ImapCommandKind.Authenticate, t, sasl: sasl);
            AddPending(pending, t);
            _authenticating = pending;
            _client = ImapClientState.SaslResponses;
        }
        else if (AsciiText.EqualsIgnoreCase(command, "STARTTLS"u8))
        {
            AddPending(NewPending(tag, ImapCommandKind.StartTls, t), t);
        }
        else
        {
            // Any other command (APPEND, ...): its literals are skipped by length (RFC 3501 §4.3).
            SkipLiteralAtEnd(line);
        }
    }

    private void EndSaslResponses()
    {
        _authenticating = null;
        _client = ImapClientState.Command;
    }

    /// <summary>
    /// A SASL response is base64 (RFC 3501 §6.2.2) and never holds a space: "tag SP command" where a
    /// response was due means the exchange ended without our seeing its completion.
    /// </summary>
    private static bool IsCommandNotResponse(ReadOnlySpan<byte> line)
    {
        if (!ImapGrammar.TryParseTag(line, out _, out var rest)) return false;
        var word = AsciiText.NextWord(ref rest);
        if (word.IsEmpty) return false;
        foreach (var c in word)
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
        return true;
    }

    /// <summary>The rest of a command line: a literal at its end is skipped by length, else the command is over.</summary>
    private void SkipLiteralAtEnd(ReadOnlySpan<byte> line)
    {
        if (!ImapGrammar.EndsWithLiteral(line, out long n))
        {
            _client = ImapClientState.Command;
            return;
        }
        Context.Counters.LiteralsSkipped++;
        _clientLiteralToSkip = n;
        _client = n == 0 ? ImapClientState.CommandContinues : ImapClientState.Literal;
    }

    private void StartLoginLiteral(long n)
    {
        if (n > Context.Options.MaxCredentialLiteral)
        {
            // Not a credential anyone types: skip it by length and forget the LOGIN.
            _login = null;
            Context.Counters.LiteralsSkipped++;
            _clientLiteralToSkip = n;
            _client = ImapClientState.Literal;
            return;
        }
        _loginLiteralRemaining = (int)n;
        _client = n == 0 ? ImapClientState.LoginContinues : ImapClientState.LoginLiteral;
    }

    private void ContinueLogin(ReadOnlySpan<byte> line, long t)
    {
        var login = _login!;
        login.Append(line);
        if (ImapGrammar.EndsWithLiteral(line, out long n))
        {
            login.Append("\r\n"u8);
            if (login.Overflowed)
            {
                _login = null;
                Context.Counters.LiteralsSkipped++;
                _clientLiteralToSkip = n;
                _client = n == 0 ? ImapClientState.CommandContinues : ImapClientState.Literal;
                return;
            }
            StartLoginLiteral(n);
            return;
        }
        _login = null;
        _client = ImapClientState.Command;
        if (login.Overflowed) { Context.Counters.LinesTooLong++; return; }
        CompleteLogin(login.Bytes, t);
    }

    /// <summary>tag SP "LOGIN" SP userid SP password, each an astring (RFC 3501 §6.2.3).</summary>
    private void CompleteLogin(ReadOnlySpan<byte> command, long t)
    {
        ImapGrammar.TryParseTag(command, out var tag, out var rest);
        AsciiText.NextWord(ref rest); // LOGIN
        if (!ImapGrammar.TryReadAString(ref rest, out var user) || !ImapGrammar.TryReadAString(ref rest, out var password))
        {
            Context.Counters.MalformedLines++;
            return;
        }
        AddPending(NewPending(tag, ImapCommandKind.Login, t, user, Reveal ? password : null), t);
    }

    private ImapPendingCommand NewPending(ReadOnlySpan<byte> tag, ImapCommandKind kind, long t,
        string? username = null, string? secret = null, SaslExchange? sasl = null) => new()
    {
        Tag = tag.ToArray(),
        Kind = kind,
        TimestampNs = t,
        Username = username,
        Secret = secret,
        Sasl = sasl,
        Unproven = _clientUnproven,
        ClientEpoch = _clientEpoch,
    };

    private void AddPending(ImapPendingCommand command, long t)
    {
        if (_pending.Count >= Context.Options.MaxPendingCommands)
        {
            Context.Counters.PendingCommandOverflows++;
            Settle(_pending[0], AuthOutcome.Unknown);
            _pending.RemoveAt(0);
        }
        _pending.Add(command);
    }

    private void ReadServer(ReadOnlySpan<byte> data, long t)
    {
        while (!data.IsEmpty && _server != ImapServerState.Tls)
        {
            if (_server == ImapServerState.Literal)
            {
                int n = (int)Math.Min(_serverLiteralToSkip, data.Length);
                _serverLiteralToSkip -= n;
                Context.Counters.LiteralBytesSkipped += n;
                data = data[n..];
                if (_serverLiteralToSkip == 0) _server = ImapServerState.ResponseContinues;
                continue;
            }
            var status = _serverLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                Context.Counters.LinesTooLong++;
                _server = ImapServerState.Response;
                continue;
            }
            OnServerLine(line, t);
        }
    }

    private void OnServerLine(ReadOnlySpan<byte> line, long t)
    {
        // A response that announced a literal continues after it (e.g. FETCH BODY[] {n}).
        bool continuation = _server == ImapServerState.ResponseContinues;
        if (ImapGrammar.EndsWithLiteral(line, out long n))
        {
            Context.Counters.LiteralsSkipped++;
            _serverLiteralToSkip = n;
            _server = n == 0 ? ImapServerState.ResponseContinues : ImapServerState.Literal;
        }
        else
        {
            _server = ImapServerState.Response;
        }
        if (continuation || line.IsEmpty) return;

        if (line[0] == (byte)'+')
        {
            // Continuation request: a SASL challenge while authenticating (RFC 3501 §7.5).
            if (_client == ImapClientState.SaslResponses && line.Length > 1) _authenticating!.Sasl!.AddServerChallenge(line[1..]);
            return;
        }
        if (line[0] == (byte)'*')
        {
            var rest = line.Length > 2 ? line[2..] : default;
            var word = AsciiText.NextWord(ref rest);
            if (AsciiText.EqualsIgnoreCase(word, "CAPABILITY"u8))
                ImapGrammar.ReadCapabilities(rest, ref _capabilities);
            else if (AsciiText.EqualsIgnoreCase(word, "OK"u8) || AsciiText.EqualsIgnoreCase(word, "PREAUTH"u8))
                ImapGrammar.ReadCapabilityCode(rest, ref _capabilities);
            else
                return;
            if (_capabilities.Seen) RecordCapabilities(_capabilities.StartTls, _capabilities.LoginDisabled, _capabilities.Names);
            return;
        }

        if (!ImapGrammar.TryParseTag(line, out var tag, out var text))
        {
            Context.Counters.MalformedLines++;
            return;
        }
        var status = AsciiText.NextWord(ref text);
        ImapGrammar.ReadCapabilityCode(text, ref _capabilities);
        int index = FindPending(tag);
        if (index < 0) return; // completion of a command the sensor does not track
        var pending = _pending[index];
        _pending.RemoveAt(index);
        if (pending.Unproven) Prove(pending);
        var outcome = AsciiText.EqualsIgnoreCase(status, "OK"u8) ? AuthOutcome.Success : AuthOutcome.Failure;
        Settle(pending, outcome);
        if (pending.Kind == ImapCommandKind.StartTls && outcome == AuthOutcome.Success)
            _server = ImapServerState.Tls; // RFC 3501 §6.2.1: TLS negotiation begins right after the CRLF of the OK
    }

    /// <summary>
    /// The server answered the tag of a command read after a loss: it was a command, so the framing
    /// from it on was right, and every later command of the same stretch is one too.
    /// </summary>
    private void Prove(ImapPendingCommand answered)
    {
        answered.Unproven = false;
        foreach (var p in _pending)
            if (p.ClientEpoch == answered.ClientEpoch) p.Unproven = false;
        if (answered.ClientEpoch == _clientEpoch) _clientUnproven = false;
    }

    private int FindPending(ReadOnlySpan<byte> tag)
    {
        for (int i = 0; i < _pending.Count; i++)
            if (tag.SequenceEqual(_pending[i].Tag)) return i;
        return -1;
    }

    private void Settle(ImapPendingCommand p, AuthOutcome outcome)
    {
        if (_authenticating == p) EndSaslResponses();
        if (p.Unproven)
        {
            // Never answered: perhaps a line of a body whose literal announcement was lost.
            if (p.Kind != ImapCommandKind.StartTls) Context.Counters.CredentialsUnproven++;
            return;
        }
        switch (p.Kind)
        {
            case ImapCommandKind.Login:
                EmitAuth(p.TimestampNs, "LOGIN", p.Username, p.Secret, CredentialExposure.Cleartext, outcome);
                break;
            case ImapCommandKind.Authenticate:
                EmitSaslAuth(p.Sasl!.LastClientLineNs, p.Sasl, outcome);
                break;
            case ImapCommandKind.StartTls:
                EmitStartTls(p.TimestampNs, outcome);
                break;
        }
    }
}
