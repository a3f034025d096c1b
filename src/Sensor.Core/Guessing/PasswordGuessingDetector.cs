using Sensor.Core.Events;

namespace Sensor.Core.Guessing;

/// <summary>
/// Watches failed logins and reports password guessing (many failures from one client or against one
/// username) and spraying (one client failing with many usernames) over a sliding window of packet
/// time, each tenant network (<see cref="Flows.Encapsulation.Realm"/>) on its own. A decorator: every event passes through to the next sink, alerts are added after the event
/// that crossed a threshold.
/// Bounded: a table of clients and a table of usernames, each with a hard cap and least-recently-
/// failing eviction in O(1) (evictions counted), and per entry only what the thresholds need.
/// </summary>
public sealed class PasswordGuessingDetector : IEventSink
{
    /// <summary>
    /// Usernames are told apart by their first 256 characters: a key costs at most that much, and
    /// no real account name is longer. Alerts still carry the username as it was sent.
    /// </summary>
    public const int MaxUsernameLength = 256;

    /// <summary>The largest cap either table accepts (16.7 million tracks, gigabytes of memory: far beyond any real need).</summary>
    public const int MaxTableSize = 1 << 24;

    /// <summary>
    /// The largest Failures or SprayUsernames threshold: a track keeps the times (and usernames) of that
    /// many failures, so the threshold multiplies the memory of every tracked client; beyond a thousand
    /// failures in one window, guessing is no longer subtle.
    /// </summary>
    public const int MaxThreshold = 1000;

    private readonly IEventSink _next;
    private readonly GuessingThresholds _thresholds;
    private readonly FailureTable<ClientKey> _clients;
    private readonly FailureTable<UsernameKey> _usernames;
    private readonly long _windowNs;
    private readonly int _clientUsers;

    public PasswordGuessingDetector(IEventSink next, GuessingThresholds thresholds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholds.Failures, 1, nameof(thresholds.Failures));
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholds.SprayUsernames, 1, nameof(thresholds.SprayUsernames));
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholds.MaxClients, 1, nameof(thresholds.MaxClients));
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholds.MaxUsernames, 1, nameof(thresholds.MaxUsernames));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(thresholds.Failures, MaxThreshold, nameof(thresholds.Failures));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(thresholds.SprayUsernames, MaxThreshold, nameof(thresholds.SprayUsernames));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(thresholds.MaxClients, MaxTableSize, nameof(thresholds.MaxClients));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(thresholds.MaxUsernames, MaxTableSize, nameof(thresholds.MaxUsernames));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(thresholds.Window, TimeSpan.Zero, nameof(thresholds.Window));
        _next = next;
        _thresholds = thresholds;
        _windowNs = (long)thresholds.Window.TotalMicroseconds * 1000;
        _clients = new FailureTable<ClientKey>(thresholds.MaxClients);
        _usernames = new FailureTable<UsernameKey>(thresholds.MaxUsernames);
        // Enough usernames per client for the spraying threshold, and to count every username among
        // the failures that make a guessing episode.
        _clientUsers = Math.Max(thresholds.SprayUsernames, thresholds.Failures);
    }

    public long Alerts { get; private set; }
    public int ClientsTracked => _clients.Count;
    public int UsernamesTracked => _usernames.Count;
    /// <summary>Clients forgotten at <see cref="GuessingThresholds.MaxClients"/> while their window was still open.</summary>
    public long ClientsEvicted => _clients.Evicted;
    /// <summary>Usernames forgotten at <see cref="GuessingThresholds.MaxUsernames"/> while their window was still open.</summary>
    public long UsernamesEvicted => _usernames.Evicted;
    public long TracksEvicted => _clients.Evicted + _usernames.Evicted;

    public void Emit(SensorEvent e)
    {
        _next.Emit(e);
        if (e is not AuthAttempt { Outcome: AuthOutcome.Failure } a) return;

        long now = a.TimestampNs;
        int failures = _thresholds.Failures;
        _clients.ExpireIdle(now, _windowNs);
        _usernames.ExpireIdle(now, _windowNs);

        string? userKey = a.Username is { } u && u.Length > MaxUsernameLength ? u[..MaxUsernameLength] : a.Username;
        ulong realm = a.Tunnel.Realm;
        ref var client = ref _clients.Touch(new ClientKey(a.Client.Address, realm));
        client.Record(now, _windowNs, failures, userKey is not null, userKey is null ? 0 : Hash(userKey), _clientUsers);
        if (!client.Alerted && client.FailuresWithin(now, _windowNs) >= failures)
        {
            client.Alerted = true;
            Raise(a, GuessingKind.Guessing, client.FailuresWithin(now, _windowNs), client.UsernamesWithin(now, _windowNs), null);
        }
        if (!client.SprayAlerted && client.UsernamesWithin(now, _windowNs) >= _thresholds.SprayUsernames)
        {
            client.SprayAlerted = true;
            Raise(a, GuessingKind.Spraying, client.FailuresWithin(now, _windowNs), client.UsernamesWithin(now, _windowNs), null);
        }

        if (userKey is not null)
        {
            ref var account = ref _usernames.Touch(new UsernameKey(userKey, realm));
            account.Record(now, _windowNs, failures, false, 0, 0);
            // Against one account from several clients (one client alone is already reported above).
            if (!account.Alerted && account.FailuresWithin(now, _windowNs) >= failures && !client.Alerted)
            {
                account.Alerted = true;
                Raise(a, GuessingKind.Guessing, account.FailuresWithin(now, _windowNs), 1, a.Username);
            }
        }
    }

    /// <summary>FNV-1a, 64 bits: deterministic across runs, so a capture replays the same way.</summary>
    private static ulong Hash(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    private void Raise(AuthAttempt a, GuessingKind kind, int failures, int usernames, string? user)
    {
        Alerts++;
        _next.Emit(new PasswordGuessing
        {
            TimestampNs = a.TimestampNs,
            FlowId = a.FlowId,
            Client = a.Client,
            Server = a.Server,
            Protocol = a.Protocol,
            Tunnel = a.Tunnel,
            Kind = kind,
            Failures = failures,
            DistinctUsernames = usernames,
            Username = user,
            WindowSeconds = (int)_thresholds.Window.TotalSeconds,
        });
    }
}
