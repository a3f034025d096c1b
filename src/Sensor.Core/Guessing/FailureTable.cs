using System.Numerics;

namespace Sensor.Core.Guessing;

/// <summary>
/// Tracks by key with a hard cap, in least-recently-failing order (a doubly linked list through
/// the tracks, like the reassembler's <c>FlowLru</c>): finding, touching, expiring and evicting
/// are all O(1). Packet time drives expiry, so a file replays the same way every time.
/// <para>Tracks live in one array that grows up to the cap and is then reused in place, so a
/// flood makes no garbage; links are indices, so moving a track costs no write barrier. The
/// index over the keys is open addressing with linear probing, at most half full, each slot
/// holding its key's hash. A flood evicts a track on every new key; a track knows its own slot,
/// so forgetting it is a backward shift through one short cluster, where a
/// <see cref="Dictionary{TKey,TValue}"/> would look the evicted key up again from cold memory
/// (profiled: those lookups were 40 % of the detector's time under a flood).</para>
/// Hashes come from the comparer: per-process randomized for strings and 128-bit addresses, so
/// usernames or addresses chosen to collide cannot turn probing into a scan.
/// </summary>
internal sealed class FailureTable<TKey>(int capacity, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private const int None = -1;

    private readonly IEqualityComparer<TKey> _comparer = comparer ?? EqualityComparer<TKey>.Default;
    private readonly int _maxSlots = (int)Math.Min(1u << 30, BitOperations.RoundUpToPowerOf2((uint)capacity) * 2);
    private FailureTrack<TKey>[] _tracks = new FailureTrack<TKey>[Math.Min(capacity, 16)];
    private int _used;           // tracks [0, _used) have been handed out at least once
    private int _free = None;    // tracks dropped by expiry, linked through Next
    private (int Track, int Hash)[] _slots = NewSlots((int)Math.Min(32u, BitOperations.RoundUpToPowerOf2((uint)capacity) * 2));
    private int _head = None, _tail = None;

    public int Count { get; private set; }
    /// <summary>Tracks forgotten at the cap while still inside their window: what they held is lost.</summary>
    public long Evicted { get; private set; }

    /// <summary>
    /// The track of <paramref name="key"/>, new if needed, made the most recently failing. The
    /// reference is good until the next <see cref="Touch"/> of this table.
    /// </summary>
    public ref FailureTrack<TKey> Touch(TKey key)
    {
        int hash = _comparer.GetHashCode(key);
        int mask = _slots.Length - 1;
        for (int i = hash & mask; _slots[i].Track is var known and not None; i = (i + 1) & mask)
        {
            if (_slots[i].Hash != hash || !_comparer.Equals(_tracks[known].Key, key)) continue;
            if (known != _tail)
            {
                Unlink(known);
                Append(known);
            }
            return ref _tracks[known];
        }

        int t;
        if (Count >= capacity && _head != None)
        {
            t = _head;
            Forget(t);
            Evicted++;
        }
        else if (_free != None)
        {
            t = _free;
            _free = _tracks[t].Next;
        }
        else
        {
            if (_used == _tracks.Length) Array.Resize(ref _tracks, (int)Math.Min(capacity, 2L * _tracks.Length));
            t = _used++;
        }
        if ((Count + 1) * 2 > _slots.Length && _slots.Length < _maxSlots) Grow();
        ref var track = ref _tracks[t];
        track.Reset(key);
        Place(t, hash);
        Append(t);
        return ref track;
    }

    /// <summary>Drops the tracks whose latest failure is more than a window before <paramref name="ns"/>.</summary>
    public void ExpireIdle(long ns, long windowNs)
    {
        // Oldest first; with packet time running forwards the list is sorted by LastNs. When it does
        // not (the next capture file starts earlier), expiry waits and the cap still holds.
        while (_head != None && ns - _tracks[_head].LastNs > windowNs)
        {
            // Nothing it held still counts: dropping it loses nothing, so it is not an eviction.
            int t = _head;
            Forget(t);
            _tracks[t].Key = default!;
            _tracks[t].Next = _free;
            _free = t;
        }
    }

    private void Forget(int t)
    {
        Unlink(t);
        RemoveSlot(_tracks[t].Slot);
    }

    private void Place(int t, int hash)
    {
        int mask = _slots.Length - 1;
        int i = hash & mask;
        while (_slots[i].Track != None) i = (i + 1) & mask;
        _slots[i] = (t, hash);
        _tracks[t].Slot = i;
        _tracks[t].Hash = hash;
    }

    /// <summary>
    /// Empties slot <paramref name="hole"/> and moves later members of its cluster back into
    /// holes their probe passes, so every key stays reachable from its home slot.
    /// </summary>
    private void RemoveSlot(int hole)
    {
        int mask = _slots.Length - 1;
        _slots[hole].Track = None;
        for (int j = (hole + 1) & mask; _slots[j].Track is var t and not None; j = (j + 1) & mask)
        {
            int home = _slots[j].Hash & mask;
            bool reachesHole = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (!reachesHole) continue;
            _slots[hole] = _slots[j];
            _tracks[t].Slot = hole;
            _slots[j].Track = None;
            hole = j;
        }
    }

    private void Grow()
    {
        _slots = NewSlots(_slots.Length * 2);
        for (int t = _head; t != None; t = _tracks[t].Next) Place(t, _tracks[t].Hash);
    }

    private static (int Track, int Hash)[] NewSlots(int length)
    {
        var slots = new (int Track, int Hash)[length];
        slots.AsSpan().Fill((None, 0));
        return slots;
    }

    private void Append(int t)
    {
        _tracks[t].Prev = _tail;
        _tracks[t].Next = None;
        if (_tail == None) _head = t; else _tracks[_tail].Next = t;
        _tail = t;
        Count++;
    }

    private void Unlink(int t)
    {
        ref var track = ref _tracks[t];
        if (track.Prev == None) _head = track.Next; else _tracks[track.Prev].Next = track.Next;
        if (track.Next == None) _tail = track.Prev; else _tracks[track.Next].Prev = track.Prev;
        track.Prev = track.Next = None;
        Count--;
    }
}
