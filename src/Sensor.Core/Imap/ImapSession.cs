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
/// </summary>
public sealed class ImapSession : MailSession
{
    private readonly LineAssembler _clientLines;
    private readonly LineAssembler _serverLines;
    private readonly List<ImapPendingCommand> _pending = new(2);

    // Client direction
    private long _clientLiteralToSkip;
    private bool _clientContinuation;     // the next line continues the current command (after a literal)
    private CredentialCommand? _login;    // a LOGIN whose arguments include a literal, held as on the wire
    private int _loginLiteralRemaining;
    private ImapPendingCommand? _authenticating; // AUTHENTICATE in progress: client lines are SASL responses

    // Server direction
    private long _serverLiteralToSkip;
    private bool _serverContinuation;
    private ImapCapabilities _capabilities;
    private bool _tls;

    public ImapSession(TcpFlow flow, AnalysisContext context) : base(flow, context, AppProtocol.Imap)
    {
        _clientLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
        _serverLines = new LineAssembler(context.Options.MaxLineLength, context.LineBudget);
    }

    public override bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        if (_tls) return false;
        if (direction == StreamDirection.ClientToServer) ReadClient(data, timestampNs);
        else ReadServer(data, timestampNs);
        return !_tls;
    }

    public override void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        // A gap inside a literal only shortens it; anywhere else we are mid-line and resynchronize
        // at the next line end, dropping any half-read credential.
        if (direction == StreamDirection.ClientToServer)
        {
            if (_clientLiteralToSkip >= skippedBytes) { _clientLiteralToSkip -= skippedBytes; return; }
            _clientLiteralToSkip = 0;
            _clientContinuation = false;
            _login = null;
            _loginLiteralRemaining = 0;
            _clientLines.Resynchronize();
        }
        else
        {
            if (_serverLiteralToSkip >= skippedBytes) { _serverLiteralToSkip -= skippedBytes; return; }
            _serverLiteralToSkip = 0;
            _serverContinuation = false;
            _serverLines.Resynchronize();
        }
    }

    public override void OnClose(long timestampNs)
    {
        foreach (var p in _pending) Settle(p, AuthOutcome.Unknown, timestampNs);
        _pending.Clear();
        _clientLines.Release();
        _serverLines.Release();
    }

    private void ReadClient(ReadOnlySpan<byte> data, long t)
    {
        while (!data.IsEmpty && !_tls)
        {
            if (_clientLiteralToSkip > 0)
            {
                int n = (int)Math.Min(_clientLiteralToSkip, data.Length);
                _clientLiteralToSkip -= n;
                Context.Counters.LiteralBytesSkipped += n;
                data = data[n..];
                continue;
            }
            if (_loginLiteralRemaining > 0)
            {
                int n = Math.Min(_loginLiteralRemaining, data.Length);
                _login!.Append(data[..n]);
                _loginLiteralRemaining -= n;
                data = data[n..];
                continue;
            }
            var status = _clientLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                Context.Counters.LinesTooLong++;
                _login = null;
                _clientContinuation = false;
                continue;
            }
            OnClientLine(line, t);
        }
    }

    private void OnClientLine(ReadOnlySpan<byte> line, long t)
    {
        if (_login is not null)
        {
            ContinueLogin(line, t);
            return;
        }
        if (_clientContinuation)
        {
            _clientContinuation = SkipLiteralAtEnd(line, ref _clientLiteralToSkip);
            return;
        }
        if (_authenticating is { } auth)
        {
            // Client lines of a SASL exchange until the tagged completion (RFC 3501 §6.2.2).
            auth.Sasl!.AddClientLine(line);
            auth.TimestampNs = t;
            if (auth.Sasl.Cancelled) _authenticating = null;
            return;
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
            var sasl = new SaslExchange(AsciiText.ToUpperString(mechanism));
            var initial = AsciiText.TrimSpaces(rest);
            if (!initial.IsEmpty) sasl.AddClientLine(initial); // SASL-IR (RFC 4959)
            var pending = new ImapPendingCommand { Tag = tag.ToArray(), Kind = ImapCommandKind.Authenticate, TimestampNs = t, Sasl = sasl };
            AddPending(pending, t);
            _authenticating = pending;
        }
        else if (AsciiText.EqualsIgnoreCase(command, "STARTTLS"u8))
        {
            AddPending(new ImapPendingCommand { Tag = tag.ToArray(), Kind = ImapCommandKind.StartTls, TimestampNs = t }, t);
        }
        else
        {
            // Any other command (APPEND, ...): its literals are skipped by length (RFC 3501 §4.3).
            _clientContinuation = SkipLiteralAtEnd(line, ref _clientLiteralToSkip);
        }
    }

    private bool SkipLiteralAtEnd(ReadOnlySpan<byte> line, ref long toSkip)
    {
        if (!ImapGrammar.EndsWithLiteral(line, out long n)) return false;
        toSkip = n;
        Context.Counters.LiteralsSkipped++;
        return true;
    }

    private void StartLoginLiteral(long n)
    {
        if (n > Context.Options.MaxCredentialLiteral)
        {
            // Not a credential anyone types: skip it by length and forget the LOGIN.
            _login = null;
            _clientLiteralToSkip = n;
            _clientContinuation = true;
            Context.Counters.LiteralsSkipped++;
            return;
        }
        _loginLiteralRemaining = (int)n;
        if (n == 0) return;
    }

    private void ContinueLogin(ReadOnlySpan<byte> line, long t)
    {
        var login = _login!;
        login.Append(line);
        if (ImapGrammar.EndsWithLiteral(line, out long n))
        {
            login.Append("\r\n"u8);
            if (login.Overflowed) { _login = null; _clientLiteralToSkip = n; _clientContinuation = true; return; }
            StartLoginLiteral(n);
            return;
        }
        _login = null;
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
        AddPending(new ImapPendingCommand
        {
            Tag = tag.ToArray(),
            Kind = ImapCommandKind.Login,
            TimestampNs = t,
            Username = user,
            Secret = Reveal ? password : null,
        }, t);
    }

    private void AddPending(ImapPendingCommand command, long t)
    {
        if (_pending.Count >= Context.Options.MaxPendingCommands)
        {
            Context.Counters.PendingCommandOverflows++;
            Settle(_pending[0], AuthOutcome.Unknown, t);
            _pending.RemoveAt(0);
        }
        _pending.Add(command);
    }

    private void ReadServer(ReadOnlySpan<byte> data, long t)
    {
        while (!data.IsEmpty && !_tls)
        {
            if (_serverLiteralToSkip > 0)
            {
                int n = (int)Math.Min(_serverLiteralToSkip, data.Length);
                _serverLiteralToSkip -= n;
                Context.Counters.LiteralBytesSkipped += n;
                data = data[n..];
                continue;
            }
            var status = _serverLines.Next(ref data, out var line);
            if (status == LineStatus.NeedMore) return;
            if (status == LineStatus.TooLong)
            {
                Context.Counters.LinesTooLong++;
                _serverContinuation = false;
                continue;
            }
            OnServerLine(line, t);
        }
    }

    private void OnServerLine(ReadOnlySpan<byte> line, long t)
    {
        // A response that announced a literal continues after it (e.g. FETCH BODY[] {n}).
        bool continuation = _serverContinuation;
        _serverContinuation = SkipLiteralAtEnd(line, ref _serverLiteralToSkip);
        if (continuation || line.IsEmpty) return;

        if (line[0] == (byte)'+')
        {
            // Continuation request: a SASL challenge while authenticating (RFC 3501 §7.5).
            if (_authenticating is { } auth && line.Length > 1) auth.Sasl!.AddServerChallenge(line[1..]);
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
            if (_capabilities.Seen) RecordCapabilities(_capabilities.StartTls, _capabilities.LoginDisabled);
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
        var outcome = AsciiText.EqualsIgnoreCase(status, "OK"u8) ? AuthOutcome.Success : AuthOutcome.Failure;
        Settle(pending, outcome, t);
        if (pending.Kind == ImapCommandKind.StartTls && outcome == AuthOutcome.Success)
            _tls = true; // RFC 3501 §6.2.1: TLS negotiation begins right after the CRLF of the OK
    }

    private int FindPending(ReadOnlySpan<byte> tag)
    {
        for (int i = 0; i < _pending.Count; i++)
            if (tag.SequenceEqual(_pending[i].Tag)) return i;
        return -1;
    }

    private void Settle(ImapPendingCommand p, AuthOutcome outcome, long t)
    {
        switch (p.Kind)
        {
            case ImapCommandKind.Login:
                EmitAuth(p.TimestampNs, "LOGIN", p.Username, p.Secret, CredentialExposure.Cleartext, outcome);
                break;
            case ImapCommandKind.Authenticate:
                if (_authenticating == p) _authenticating = null;
                EmitSaslAuth(p.TimestampNs, p.Sasl!, outcome);
                break;
            case ImapCommandKind.StartTls:
                EmitStartTls(p.TimestampNs, outcome);
                break;
        }
    }
}
