using System.Diagnostics.CodeAnalysis;

namespace Sensor.Core.Guessing;

/// <summary>
/// What the detector remembers of one client or one username: the times of its latest failed
/// logins (no more than a threshold needs), the usernames among them (for clients), whether the
/// current episode was reported, and its links in its table's least-recently-failing order.
/// Usernames are remembered by a 64-bit hash, never by their text, so a track's size does not
/// depend on what an attacker sends.
/// <para>A struct held in its table's array: the first failure and the first username sit in
/// the track itself, so a one-off failure (what a flood is made of) touches one place in memory;
/// arrays for more are made on a track's second failure and kept when the slot is reused.</para>
/// </summary>
internal struct FailureTrack<TKey> where TKey : notnull
{
    public TKey Key;
    /// <summary>Packet time of the latest failure.</summary>
    public long LastNs;
    public bool Alerted, SprayAlerted;

    // Kept by FailureTable: the neighbours in least-recently-failing order (-1: none), the slot
    // of its index that points here, and the key's hash.
    internal int Prev, Next, Slot, Hash;

    // The latest failure times: position 0 is _time0, position k the array's k-1. Until the
    // capacity is reached they fill positions [0, _count); then they are a ring, _oldest the oldest.
    private long _time0;
    private long[]? _times;
    private int _count, _oldest;

    // Distinct usernames with the time each last failed, position 0 in _user0; when full, the
    // least recently seen is replaced, so the set always holds the most recent distinct usernames.
    private (ulong Hash, long Ns) _user0;
    private (ulong Hash, long Ns)[]? _users;
    private int _userCount;

    /// <summary>Makes this the track of a new key (a reused slot keeps its arrays).</summary>
    public void Reset(TKey key)
    {
        Key = key;
        LastNs = 0;
        Alerted = SprayAlerted = false;
        _count = _oldest = _userCount = 0;
    }

    /// <summary>
    /// Adds a failure at <paramref name="ns"/>. An episode ends after a whole quiet window: what
    /// was remembered is forgotten and the next failures start a new one.
    /// </summary>
    public void Record(long ns, long windowNs, int timesCapacity, bool hasUser, ulong userHash, int usersCapacity)
    {
        // A failure a whole window before the latest one is no part of its episode either: packet
        // time goes back when `sensor read` takes a capture recorded earlier after a later one, and
        // failures half an hour apart must not add up to an alert.
        bool newEpisode = _count > 0 && (ns - LastNs > windowNs || LastNs - ns > windowNs);
        if (newEpisode)
        {
            _count = _oldest = _userCount = 0;
            Alerted = SprayAlerted = false;
            LastNs = ns;
        }

        if (_count < timesCapacity)
        {
            if (_count == 1) _times ??= new long[timesCapacity - 1];
            TimeAt(_count++) = ns;
        }
        else
        {
            TimeAt(_oldest) = ns; // the newest replaces the oldest
            if (++_oldest == timesCapacity) _oldest = 0;
        }

        if (hasUser && usersCapacity > 0) RecordUser(userHash, ns, usersCapacity);
        LastNs = Math.Max(LastNs, ns);
    }

    /// <summary>
    /// Failures within a window of <paramref name="ns"/>, counted up to the times capacity. Either
    /// side: events of overlapping connections arrive slightly out of time order.
    /// </summary>
    public int FailuresWithin(long ns, long windowNs)
    {
        int n = 0;
        for (int k = 0; k < _count; k++)
            if (Math.Abs(ns - TimeAt(k)) <= windowNs) n++;
        return n;
    }

    /// <summary>Distinct usernames failing within a window of <paramref name="ns"/> (either side), up to the users capacity.</summary>
    public int UsernamesWithin(long ns, long windowNs)
    {
        int n = 0;
        for (int k = 0; k < _userCount; k++)
            if (Math.Abs(ns - UserAt(k).Ns) <= windowNs) n++;
        return n;
    }

    private void RecordUser(ulong hash, long ns, int capacity)
    {
        int oldest = 0;
        for (int k = 0; k < _userCount; k++)
        {
            ref var u = ref UserAt(k);
            if (u.Hash == hash)
            {
                u.Ns = Math.Max(u.Ns, ns);
                return;
            }
            if (u.Ns < UserAt(oldest).Ns) oldest = k;
        }
        if (_userCount < capacity)
        {
            if (_userCount == 1) _users ??= new (ulong, long)[capacity - 1];
            UserAt(_userCount++) = (hash, ns);
        }
        else
        {
            UserAt(oldest) = (hash, ns);
        }
    }

    [UnscopedRef]
    private ref long TimeAt(int k) => ref k == 0 ? ref _time0 : ref _times![k - 1];

    [UnscopedRef]
    private ref (ulong Hash, long Ns) UserAt(int k) => ref k == 0 ? ref _user0 : ref _users![k - 1];
}
