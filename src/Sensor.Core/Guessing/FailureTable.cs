using System.Runtime.InteropServices;

namespace Sensor.Core.Guessing;

/// <summary>
/// Tracks by key with a hard cap, in least-recently-failing order (a dictionary into an intrusive
/// doubly linked list, like the reassembler's <c>FlowLru</c>): finding, touching, expiring and
/// evicting are all O(1). Packet time drives expiry, so a file replays the same way every time.
/// Tracks that leave the table are recycled, so a flood of one-off failures makes no garbage once
/// the table is full.
/// </summary>
internal sealed class FailureTable<TKey>(int capacity, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly Dictionary<TKey, FailureTrack<TKey>> _tracks = new(comparer);
    private FailureTrack<TKey>? _head, _tail;
    private FailureTrack<TKey>? _free; // singly linked through Next; with the live tracks never more than the capacity

    public int Count { get; private set; }
    /// <summary>Tracks forgotten at the cap while still inside their window: what they held is lost.</summary>
    public long Evicted { get; private set; }

    /// <summary>The track of <paramref name="key"/>, new if needed, made the most recently failing.</summary>
    public FailureTrack<TKey> Touch(TKey key)
    {
        // One hash lookup finds the key or makes its slot.
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_tracks, key, out bool exists);
        if (exists)
        {
            var known = slot!;
            if (known != _tail)
            {
                Unlink(known);
                Append(known);
            }
            return known;
        }

        FailureTrack<TKey> track;
        TKey? evictedKey = default;
        bool evicted = false;
        if (Count >= capacity && _head is { } oldest)
        {
            Unlink(oldest);
            evictedKey = oldest.Key;
            evicted = true;
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
        track.Reset(key);
        slot = track;
        Append(track);
        if (evicted)
        {
            // After the slot is filled: removing first would invalidate the reference to it.
            _tracks.Remove(evictedKey!);
            Evicted++;
        }
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
        _tracks.Remove(t.Key);
        Unlink(t);
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
}
