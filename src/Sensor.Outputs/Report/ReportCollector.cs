using System.Globalization;
using System.Text;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Guessing;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Report;

/// <summary>
/// Gathers what the HTML report shows from the same events the event log gets, plus each capture
/// file's counters and server postures (<see cref="AddPipeline"/>) and outcome (<see cref="AddFile"/>).
/// It never reads <see cref="AuthAttempt.Secret"/>: the report has no place for a password, whatever
/// --reveal-secrets says.
/// Bounded: each table keeps at most <see cref="MaxTracked"/> keys; what arrives for a key beyond
/// that is counted (and shown among the skips), never stored. Called from one thread: the parallel
/// reader merges its workers' events before they reach the sinks.
/// </summary>
public sealed class ReportCollector : IEventSink
{
    public const int MaxTracked = 10_000;
    /// <summary>Rows rendered per table; the rest are counted in a "more not shown" line.</summary>
    public const int MaxRowsShown = 500;
    /// <summary>Usernames are told apart by their first 256 characters, as the guessing detector does.</summary>
    public const int MaxUsernameLength = PasswordGuessingDetector.MaxUsernameLength;
    private const int MaxEpisodes = MaxRowsShown;
    private const int MaxFiles = MaxRowsShown;
    private const int MaxDistinct = 1_000;
    private const int MaxMechanisms = 8;
    /// <summary>SASL names are at most 20 characters (RFC 4422 §3.1); a longer one is a client's invention.</summary>
    private const int MaxMechanismLength = 64;

    // Servers and clients are told apart by tenant network too (Encapsulation.Realm): two VXLAN tenants
    // may both have a 10.0.0.5:143, and they are two rows, each named with its tenant.
    private readonly Dictionary<(IpEndpoint, AppProtocol, ulong Realm), ServerTally> _servers = new();
    private readonly Dictionary<(UInt128, ulong Realm), ClientTally> _clients = new();
    private readonly Dictionary<string, UsernameTally> _usernames = new(StringComparer.Ordinal);
    private UsernameTally? _noUsername;
    private readonly List<EpisodeRow> _episodes = new();
    private readonly List<FileRow> _files = new();
    private readonly TimelineBuckets _timeline = new();
    private readonly SensorCounters _totals = new();
    private readonly LoginTally _all = new();
    private long _episodeCount, _filesNotShown, _startTlsUpgrades, _startTlsRefused;
    private long _serversUntracked, _clientsUntracked, _usernamesUntracked, _postureOverflow;
    private int _filesRead, _filesFailed;

    /// <summary>The run's password-guessing detector, for its evictions.</summary>
    public PasswordGuessingDetector? Guessing { get; set; }

    /// <summary>Set when reading stopped before the end (an output failed): said at the top of the page.</summary>
    public string? Incomplete { get; set; }

    public void Emit(SensorEvent e)
    {
        switch (e)
        {
            case AuthAttempt a:
                _all.Add(a);
                _timeline.Add(a.TimestampNs, a.Exposure, a.Outcome);
                if (Server(a.Server, a.Protocol, a.Tunnel) is { } s) s.Logins.Add(a);
                if (Client(a.Client.Address, a.Tunnel) is { } c)
                {
                    c.Logins.Add(a);
                    c.Protocols.Add(a.Protocol);
                    c.Servers.Add(a.Server);
                }
                if (Username(a.Username) is { } u)
                {
                    u.Logins.Add(a);
                    u.Protocols.Add(a.Protocol);
                    u.Mechanisms.Add(WellFormed(a.Mechanism.Length > MaxMechanismLength ? a.Mechanism[..MaxMechanismLength] : a.Mechanism));
                    u.Clients.Add((a.Client.Address, a.Tunnel.Realm));
                }
                break;
            case StartTlsUpgrade t:
                if (t.Outcome == AuthOutcome.Success) _startTlsUpgrades++;
                else if (t.Outcome == AuthOutcome.Failure) _startTlsRefused++;
                // A server seen only refusing STARTTLS is still a server of the capture: it gets its row.
                if (Server(t.Server, t.Protocol, t.Tunnel) is { } ts && t.Outcome == AuthOutcome.Failure) ts.StartTlsRefused++;
                break;
            case PasswordGuessing g:
                if (_episodeCount++ >= MaxEpisodes) break;
                _episodes.Add(new EpisodeRow
                {
                    TimestampNs = g.TimestampNs,
                    Protocol = EventNames.Of(g.Protocol),
                    Kind = g.Kind == GuessingKind.Spraying ? "spraying" : "guessing",
                    Client = EventNames.WhereAddress(g.Client, g.Tunnel),
                    ClientSortKey = AddressKey(g.Client.Address),
                    Server = EventNames.Where(g.Server, g.Tunnel),
                    Failures = g.Failures,
                    Usernames = g.DistinctUsernames,
                    Username = Bounded(g.Username),
                    WindowSeconds = g.WindowSeconds,
                });
                break;
        }
    }

    /// <summary>Adds one capture file's counters and what it taught about each server.</summary>
    public void AddPipeline(SensorCounters counters, ServerPostureTable servers)
    {
        _totals.AddRun(counters);
        _postureOverflow += servers.Evicted; // servers the inventory let go to make room
        foreach (var p in servers.All)
        {
            if (Server(p.Server, p.Protocol, p.Tunnel) is not { } s) continue;
            // Offered on any capture outweighs not offered on another (as the tracker does per capture).
            if (p.OffersStartTls is bool offers && s.OffersStartTls != true) s.OffersStartTls = offers;
            s.LoginDisabled |= p.LoginDisabled;
            s.AuthBeforeStartTls |= p.AuthBeforeStartTls;
            s.CleartextLogins += p.CleartextLogins;
            s.StartTlsUpgrades += p.StartTlsUpgrades;
        }
    }

    public void AddFile(string path, bool read, string? problem)
    {
        if (read) _filesRead++; else _filesFailed++;
        if (_files.Count < MaxFiles) _files.Add(new FileRow(path, read, problem));
        else _filesNotShown++;
    }

    public ReportModel Build()
    {
        var c = _totals;
        return new ReportModel
        {
            Headline = new ReportHeadline
            {
                CapturesRead = _filesRead,
                CapturesUnreadable = _filesFailed,
                Packets = c.PacketsRead,
                Connections = c.FlowsCreated,
                MailSessions = c.FlowsImap + c.FlowsPop3 + c.FlowsSmtp,
                Logins = _all.Logins,
                CleartextLogins = _all.Cleartext,
                CleartextAccepted = _all.CleartextAccepted,
                Failures = _all.Failures,
                GuessingEpisodes = _episodeCount,
                StartTlsUpgrades = _startTlsUpgrades,
                StartTlsRefused = _startTlsRefused,
                FirstLoginNs = _all.Logins > 0 ? _all.FirstNs : null,
                LastLoginNs = _all.Logins > 0 ? _all.LastNs : null,
            },
            // Most exposed first: the servers that accept readable passwords are the finding.
            Servers = Shown(_servers
                .OrderByDescending(kv => kv.Value.Logins.CleartextAccepted)
                .ThenByDescending(kv => kv.Value.Logins.Logins)
                .ThenBy(kv => AddressKey(kv.Key.Item1.Address), StringComparer.Ordinal)
                .ThenBy(kv => kv.Key.Item1.Port).ThenBy(kv => kv.Key.Item2).ThenBy(kv => kv.Key.Realm)
                .Select(kv => ServerRowOf(kv.Key.Item1, kv.Key.Item2, kv.Value)), _servers.Count),
            Clients = Shown(_clients
                .OrderByDescending(kv => kv.Value.Logins.Cleartext)
                .ThenByDescending(kv => kv.Value.Logins.Logins)
                .ThenBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Realm)
                .Select(kv => new ClientRow
                {
                    Client = EventNames.WhereAddress(new IpEndpoint(kv.Key.Item1, 0), kv.Value.Tunnel),
                    SortKey = AddressKey(kv.Key.Item1),
                    Protocols = kv.Value.Protocols.Values.Order().Select(EventNames.Of).ToList(),
                    Logins = kv.Value.Logins.Logins,
                    CleartextLogins = kv.Value.Logins.Cleartext,
                    Failures = kv.Value.Logins.Failures,
                    Servers = kv.Value.Servers.Count,
                    ServersCapped = kv.Value.Servers.Capped,
                }), _clients.Count),
            Usernames = Shown(_usernames.Select(kv => (Name: (string?)kv.Key, Tally: kv.Value))
                .Concat(_noUsername is null ? [] : [(Name: (string?)null, Tally: _noUsername)])
                .OrderByDescending(u => u.Tally.Logins.Logins)
                .ThenBy(u => u.Name ?? "", StringComparer.Ordinal)
                .Select(u => new UsernameRow
                {
                    Username = u.Name,
                    Mechanisms = u.Tally.Mechanisms.Values.Order(StringComparer.Ordinal).ToList(),
                    MechanismsCapped = u.Tally.Mechanisms.Capped,
                    Protocols = u.Tally.Protocols.Values.Order().Select(EventNames.Of).ToList(),
                    Logins = u.Tally.Logins.Logins,
                    CleartextLogins = u.Tally.Logins.Cleartext,
                    Successes = u.Tally.Logins.Successes,
                    Failures = u.Tally.Logins.Failures,
                    Clients = u.Tally.Clients.Count,
                    ClientsCapped = u.Tally.Clients.Capped,
                }), _usernames.Count + (_noUsername is null ? 0 : 1)),
            Episodes = new RowsShown<EpisodeRow>(_episodes, _episodeCount - _episodes.Count),
            Timeline = _timeline,
            Files = new RowsShown<FileRow>(_files, _filesNotShown),
            Counters = CounterRows(),
            Incomplete = Incomplete,
        };
    }

    private static RowsShown<T> Shown<T>(IEnumerable<T> ordered, long total)
    {
        var rows = ordered.Take(MaxRowsShown).ToList();
        return new RowsShown<T>(rows, total - rows.Count);
    }

    private static ServerRow ServerRowOf(IpEndpoint server, AppProtocol protocol, ServerTally s) => new()
    {
        Server = EventNames.Where(server, s.Tunnel),
        SortKey = AddressKey(server.Address) + server.Port.ToString("D5", CultureInfo.InvariantCulture),
        Protocol = EventNames.Of(protocol),
        OffersStartTls = s.OffersStartTls,
        StartTlsUpgrades = s.StartTlsUpgrades,
        StartTlsRefused = s.StartTlsRefused,
        LoginDisabled = s.LoginDisabled,
        AuthBeforeStartTls = s.AuthBeforeStartTls,
        Logins = s.Logins.Logins,
        CleartextLogins = s.CleartextLogins,
        CleartextAccepted = s.Logins.CleartextAccepted,
        Failures = s.Logins.Failures,
        FailureRate = s.Logins.FailureRate,
    };

    private List<CounterRow> CounterRows()
    {
        var rows = new List<CounterRow>();
        foreach (var f in typeof(SensorCounters).GetFields())
        {
            // The live gauge means nothing at the end of a read; the event counts are in the headline.
            if (f.FieldType != typeof(long) || f.Name is nameof(SensorCounters.BytesBufferedNow)) continue;
            rows.Add(new CounterRow(SnakeCase(f.Name), Words(f.Name), (long)f.GetValue(_totals)!));
        }
        rows.Add(new CounterRow("server_postures_not_kept", "servers beyond the posture table's cap", _postureOverflow));
        rows.Add(new CounterRow("report_servers_not_kept", $"report: events of servers beyond its {MaxTracked:N0}", _serversUntracked));
        rows.Add(new CounterRow("report_clients_not_kept", $"report: logins of clients beyond its {MaxTracked:N0}", _clientsUntracked));
        rows.Add(new CounterRow("report_usernames_not_kept", $"report: logins of usernames beyond its {MaxTracked:N0}", _usernamesUntracked));
        if (Guessing is { } d)
        {
            rows.Add(new CounterRow("guessing_clients_evicted", "guessing detector: clients evicted at its cap", d.ClientsEvicted));
            rows.Add(new CounterRow("guessing_usernames_evicted", "guessing detector: usernames evicted at its cap", d.UsernamesEvicted));
        }
        return rows;
    }

    private ServerTally? Server(IpEndpoint server, AppProtocol protocol, in Encapsulation tunnel)
    {
        if (_servers.TryGetValue((server, protocol, tunnel.Realm), out var s)) return s;
        if (_servers.Count >= MaxTracked) { _serversUntracked++; return null; }
        return _servers[(server, protocol, tunnel.Realm)] = new ServerTally { Tunnel = tunnel };
    }

    private ClientTally? Client(UInt128 address, in Encapsulation tunnel)
    {
        if (_clients.TryGetValue((address, tunnel.Realm), out var c)) return c;
        if (_clients.Count >= MaxTracked) { _clientsUntracked++; return null; }
        return _clients[(address, tunnel.Realm)] = new ClientTally { Tunnel = tunnel };
    }

    private UsernameTally? Username(string? username)
    {
        if (username is null) return _noUsername ??= new UsernameTally();
        var key = Bounded(username)!;
        if (_usernames.TryGetValue(key, out var u)) return u;
        if (_usernames.Count >= MaxTracked) { _usernamesUntracked++; return null; }
        return _usernames[key] = new UsernameTally();
    }

    private static string? Bounded(string? username) =>
        username is null ? null : WellFormed(username.Length > MaxUsernameLength ? username[..MaxUsernameLength] : username);

    /// <summary>
    /// Wire text as a well-formed string: a lone surrogate (sent as such, or left by the cut above)
    /// becomes U+FFFD, as a UTF-8 decoder would make it; the page and its JSON can carry nothing else.
    /// </summary>
    private static string WellFormed(string value)
    {
        int i = 0;
        for (; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) { i++; continue; }
            if (char.IsSurrogate(value[i])) break;
        }
        if (i == value.Length) return value;
        var sb = new StringBuilder(value.Length);
        for (int j = 0; j < value.Length; j++)
        {
            if (char.IsHighSurrogate(value[j]) && j + 1 < value.Length && char.IsLowSurrogate(value[j + 1])) { sb.Append(value, j++, 2); continue; }
            sb.Append(char.IsSurrogate(value[j]) ? '\uFFFD' : value[j]);
        }
        return sb.ToString();
    }

    /// <summary>Sorts addresses numerically as text: IPv4 (mapped) before IPv6, each in address order.</summary>
    public static string AddressKey(UInt128 address) => address.ToString("x32", CultureInfo.InvariantCulture);

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        foreach (char ch in name)
        {
            if (char.IsUpper(ch) && sb.Length > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }

    private static string Words(string name) => SnakeCase(name).Replace('_', ' ');

    private sealed class ServerTally
    {
        /// <summary>How its first event arrived: names its tenant network, if any.</summary>
        public Encapsulation Tunnel { get; init; }
        public LoginTally Logins { get; } = new();
        public bool? OffersStartTls { get; set; }
        public bool LoginDisabled { get; set; }
        public bool AuthBeforeStartTls { get; set; }
        public long CleartextLogins { get; set; }
        public long StartTlsUpgrades { get; set; }
        public long StartTlsRefused { get; set; }
    }

    private sealed class ClientTally
    {
        public Encapsulation Tunnel { get; init; }
        public LoginTally Logins { get; } = new();
        public DistinctCount<AppProtocol> Protocols { get; } = new(3);
        public DistinctCount<IpEndpoint> Servers { get; } = new(MaxDistinct);
    }

    private sealed class UsernameTally
    {
        public LoginTally Logins { get; } = new();
        public DistinctCount<AppProtocol> Protocols { get; } = new(3);
        public DistinctCount<string> Mechanisms { get; } = new(MaxMechanisms, StringComparer.Ordinal);
        public DistinctCount<(UInt128, ulong Realm)> Clients { get; } = new(MaxDistinct);
    }
}
