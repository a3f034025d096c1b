namespace Sensor.Core.Guessing;

/// <summary>
/// What the detector remembers of one client or one username: the times of its latest failed
/// logins (no more than a threshold needs), the usernames among them (for clients), whether the
/// current episode was reported, and its links in its table's least-recently-failing order.
/// Usernames are remembered by a 64-bit hash, never by their text, so a track's size does not
/// depend on what an attacker sends.
/// </summary>
internal sealed class FailureTrack<TKey> where TKey : notnull
{
    public TKey Key = default!;
    public FailureTrack<TKey>? Prev, Next;
    /// <summary>Where <see cref="FailureTable{TKey}"/> keeps it, so forgetting it needs no lookup.</summary>
    public int Slot;
    /// <summary>Packet time of the latest failure.</summary>
    public long LastNs;
    public bool Alerted, SprayAlerted;

    // The latest failure times, a ring with the oldest at _head. Arrays start at one entry and
    // double up to their capacity: a one-off failure (the common case in a flood) costs a few bytes.
    private long[] _times = [];
    private int _head, _count;

    // Distinct usernames with the time each last failed; when full, the least recently seen is
    // replaced, so the set always holds the most recent distinct usernames.
    private (ulong Hash, long Ns)[] _users = [];
    private int _userCount;

    /// <summary>Makes this object the track of a new key (a recycled track keeps its arrays).</summary>
    public void Reset(TKey key)
    {
        Key = key;
        Prev = Next = null;
        LastNs = 0;
        Alerted = SprayAlerted = false;
        _head = _count = _userCount = 0;
    }

    /// <summary>
    /// Adds a failure at <paramref name="ns"/>. An episode ends after a whole quiet window: what
    /// was remembered is forgotten and the next failures start a new one.
    /// </summary>
    public void Record(long ns, long windowNs, int timesCapacity, bool hasUser, ulong userHash, int usersCapacity)
    {
        if (_count > 0 && ns - LastNs > windowNs)
        {
            _head = _count = _userCount = 0;
            Alerted = SprayAlerted = false;
        }

        if (_count < timesCapacity)
        {
            if (_count == _times.Length) GrowTimes(timesCapacity);
            _times[(_head + _count) % _times.Length] = ns;
            _count++;
        }
        else
        {
            _times[_head] = ns;
            _head = (_head + 1) % _times.Length;
        }

        if (hasUser && usersCapacity > 0) RecordUser(userHash, ns, usersCapacity);
        LastNs = Math.Max(LastNs, ns);
    }

    /// <summary>Failures within the window ending at <paramref name="ns"/>, counted up to the times capacity.</summary>
    public int FailuresWithin(long ns, long windowNs)
    {
        int n = 0;
        for (int i = 0; i < _count; i++)
            if (ns - _times[(_head + i) % _times.Length] <= windowNs) n++;
        return n;
    }

    /// <summary>Distinct usernames failing within the window ending at <paramref name="ns"/>, up to the users capacity.</summary>
    public int UsernamesWithin(long ns, long windowNs)
    {
        int n = 0;
        for (int i = 0; i < _userCount; i++)
            if (ns - _users[i].Ns <= windowNs) n++;
        return n;
    }

    private void RecordUser(ulong hash, long ns, int capacity)
    {
        int oldest = 0;
        for (int i = 0; i < _userCount; i++)
        {
            if (_users[i].Hash == hash)
            {
                _users[i].Ns = Math.Max(_users[i].Ns, ns);
                return;
            }
            if (_users[i].Ns < _users[oldest].Ns) oldest = i;
        }
        if (_userCount < capacity)
        {
            if (_userCount == _users.Length) Array.Resize(ref _users, Math.Min(capacity, Math.Max(1, _users.Length * 2)));
            _users[_userCount++] = (hash, ns);
        }
        else
        {
            _users[oldest] = (hash, ns);
        }
    }

    private void GrowTimes(int capacity)
    {
        var grown = new long[Math.Min(capacity, Math.Max(1, _times.Length * 2))];
        for (int i = 0; i < _count; i++) grown[i] = _times[(_head + i) % _times.Length];
        _times = grown;
        _head = 0;
    }
}
