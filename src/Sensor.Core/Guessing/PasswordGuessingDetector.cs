using Sensor.Core.Events;
using Sensor.Core.Flows;

namespace Sensor.Core.Guessing;

/// <summary>
/// Watches failed logins and reports password guessing (many failures from one client or against one
/// username) and spraying (one client failing with many usernames) over a sliding window of packet
/// time. A decorator: every event passes through to the next sink, alerts are added after the event
/// that crossed a threshold. Bounded in the number of clients and usernames it remembers.
/// </summary>
public sealed class PasswordGuessingDetector(IEventSink next, GuessingThresholds thresholds) : IEventSink
{
    private sealed class Track
    {
        public readonly Queue<(long Ts, string? User)> Failures = new();
        public bool Alerted;
        public bool SprayAlerted;
        public long LastNs;
    }

    private readonly Dictionary<UInt128, Track> _byClient = new();
    private readonly Dictionary<string, Track> _byUser = new(StringComparer.Ordinal);
    private readonly long _windowNs = (long)thresholds.Window.TotalMicroseconds * 1000;

    public long Alerts { get; private set; }

    public void Emit(SensorEvent e)
    {
        next.Emit(e);
        if (e is not AuthAttempt { Outcome: AuthOutcome.Failure } a) return;

        var client = Get(_byClient, a.Client.Address);
        Add(client, a);
        if (!client.Alerted && client.Failures.Count >= thresholds.Failures)
        {
            client.Alerted = true;
            Raise(a, GuessingKind.Guessing, client, null);
        }
        if (!client.SprayAlerted && Distinct(client) >= thresholds.SprayUsernames)
        {
            client.SprayAlerted = true;
            Raise(a, GuessingKind.Spraying, client, null);
        }

        if (a.Username is { } user)
        {
            var account = Get(_byUser, user);
            Add(account, a);
            // Against one account from several clients (one client alone is already reported above).
            if (!account.Alerted && account.Failures.Count >= thresholds.Failures && !client.Alerted)
            {
                account.Alerted = true;
                Raise(a, GuessingKind.Guessing, account, user);
            }
        }
    }

    private Track Get<TKey>(Dictionary<TKey, Track> map, TKey key) where TKey : notnull
    {
        if (map.TryGetValue(key, out var t)) return t;
        if (map.Count >= thresholds.MaxTracked)
        {
            // Forget the quietest entry: rare, so a linear scan is fine.
            var oldest = map.MinBy(kv => kv.Value.LastNs).Key;
            map.Remove(oldest);
        }
        t = new Track();
        map.Add(key, t);
        return t;
    }

    private void Add(Track t, AuthAttempt a)
    {
        // An episode ends after a whole quiet window: the next failures start a new one.
        if (t.Failures.Count > 0 && a.TimestampNs - t.LastNs > _windowNs)
        {
            t.Failures.Clear();
            t.Alerted = t.SprayAlerted = false;
        }
        while (t.Failures.Count > 0 && a.TimestampNs - t.Failures.Peek().Ts > _windowNs) t.Failures.Dequeue();
        t.Failures.Enqueue((a.TimestampNs, a.Username));
        // Bounded per entry too: the threshold is all the window needs to remember, plus the usernames.
        while (t.Failures.Count > Math.Max(thresholds.Failures, thresholds.SprayUsernames) * 4) t.Failures.Dequeue();
        t.LastNs = Math.Max(t.LastNs, a.TimestampNs);
    }

    private static int Distinct(Track t) => t.Failures.Select(f => f.User).Where(u => u is not null).Distinct(StringComparer.Ordinal).Count();

    private void Raise(AuthAttempt a, GuessingKind kind, Track t, string? user)
    {
        Alerts++;
        next.Emit(new PasswordGuessing
        {
            TimestampNs = a.TimestampNs,
            FlowId = a.FlowId,
            Client = a.Client,
            Server = a.Server,
            Protocol = a.Protocol,
            Kind = kind,
            Failures = t.Failures.Count,
            DistinctUsernames = Distinct(t),
            Username = user,
            WindowSeconds = (int)thresholds.Window.TotalSeconds,
        });
    }
}
