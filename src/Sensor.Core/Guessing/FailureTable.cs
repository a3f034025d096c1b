using System.Numerics;

namespace Sensor.Core.Guessing;

/// <summary>
/// Tracks by key with a hard cap, in least-recently-failing order (an intrusive doubly linked
/// list, like the reassembler's <c>FlowLru</c>): finding, touching, expiring and evicting are all
/// O(1). Packet time drives expiry, so a file replays the same way every time. Tracks that leave
/// the table are recycled, so a flood of one-off failures makes no garbage once the table is full.
/// <para>The index is open addressing with linear probing, at most half full, each slot holding its
/// key's hash beside the track. A flood evicts a track on every new key; a track knows its own
/// slot, so forgetting it is a backward shift through one short cluster of that array, where a
/// <see cref="Dictionary{TKey,TValue}"/> would look the evicted key up again from cold memory
/// (profiled: those two removals were 40 % of the detector's time under a flood; this table
/// takes a fifth less CPU time for a million one-off failures).</para>
/// Hashes come from the comparer: per-process randomized for strings and 128-bit addresses, so
/// usernames or addresses chosen to collide cannot turn probing into a scan.
/// </summary>
internal sealed class FailureTable<TKey>(int capacity, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly IEqualityComparer<TKey> _comparer = comparer ?? EqualityComparer<TKey>.Default;
    private readonly int _maxSlots = (int)Math.Min(1u << 30, BitOperations.RoundUpToPowerOf2((uint)capacity) * 2);
    private Slot[] _slots = new Slot[16];
    private FailureTrack<TKey>? _head, _tail;
    private FailureTrack<TKey>? _free; // singly linked through Next; with the live tracks never more than the capacity

    public int Count { get; private set; }
    /// <summary>Tracks forgotten at the cap while still inside their window: what they held is lost.</summary>
    public long Evicted { get; private set; }

    /// <summary>The track of <paramref name="key"/>, new if needed, made the most recently failing.</summary>
    public FailureTrack<TKey> Touch(TKey key)
    {
        int hash = _comparer.GetHashCode(key);
        int mask = _slots.Length - 1;
        for (int i = hash & mask; _slots[i].Track is { } known; i = (i + 1) & mask)
        {
            if (_slots[i].Hash != hash || !_comparer.Equals(known.Key, key)) continue;
            if (known != _tail)
            {
                Unlink(known);
                Append(known);
            }
            return known;
        }

        FailureTrack<TKey> track;
        if (Count >= capacity && _head is { } oldest)
        {
            Forget(oldest);
            Evicted++;
            track = oldest;
        }
        else if (_free is { } recycled)
        {
            _free = recycled.Next;
            track = recycled;
        }
        else
        {
            track = new FailureTrack<TKey>();
        }
        if ((Count + 1) * 2 > _slots.Length && _slots.Length < _maxSlots) Grow();
        track.Reset(key);
        Place(track, hash);
        Append(track);
        return track;
    }

    /// <summary>Drops the tracks whose latest failure is more than a window before <paramref name="ns"/>.</summary>
    public void ExpireIdle(long ns, long windowNs)
    {
        // Oldest first; with packet time running forwards the list is sorted by LastNs. When it does
        // not (the next capture file starts earlier), expiry waits and the cap still holds.
        while (_head is { } h && ns - h.LastNs > windowNs)
        {
            // Nothing it held still counts: dropping it loses nothing, so it is not an eviction.
            Forget(h);
            h.Key = default!;
            h.Next = _free;
            _free = h;
        }
    }

    private void Forget(FailureTrack<TKey> t)
    {
        Unlink(t);
        RemoveSlot(t.Slot);
    }

    private void Place(FailureTrack<TKey> t, int hash)
    {
        int mask = _slots.Length - 1;
        int i = hash & mask;
        while (_slots[i].Track is not null) i = (i + 1) & mask;
        _slots[i] = new Slot(t, hash);
        t.Slot = i;
    }

    /// <summary>
    /// Empties slot <paramref name="hole"/> and moves later members of its cluster back into
    /// holes their probe passes, so every key stays reachable from its home slot.
    /// </summary>
    private void RemoveSlot(int hole)
    {
        int mask = _slots.Length - 1;
        _slots[hole] = default;
        for (int j = (hole + 1) & mask; _slots[j].Track is { } t; j = (j + 1) & mask)
        {
            int home = _slots[j].Hash & mask;
            bool reachesHole = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (!reachesHole) continue;
            _slots[hole] = _slots[j];
            t.Slot = hole;
            _slots[j] = default;
            hole = j;
        }
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        foreach (var s in old)
            if (s.Track is { } t) Place(t, s.Hash);
    }

    private void Append(FailureTrack<TKey> t)
    {
        t.Prev = _tail;
        t.Next = null;
        if (_tail is null) _head = t; else _tail.Next = t;
        _tail = t;
        Count++;
    }

    private void Unlink(FailureTrack<TKey> t)
    {
        if (t.Prev is null) _head = t.Next; else t.Prev.Next = t.Next;
        if (t.Next is null) _tail = t.Prev; else t.Next.Prev = t.Prev;
        t.Prev = t.Next = null;
        Count--;
    }

    private readonly record struct Slot(FailureTrack<TKey>? Track, int Hash);
}
