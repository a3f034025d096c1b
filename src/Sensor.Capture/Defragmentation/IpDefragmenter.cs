using System.Buffers;
using Sensor.Capture.Decoding;
using Sensor.Core.Flows;
using Sensor.Core.Health;

namespace Sensor.Capture.Defragmentation;

/// <summary>
/// Puts IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) datagrams back together from their fragments,
/// so that a login inside fragmented packets — outer packets of a tunnel that exceeded the underlay
/// MTU, or plain traffic over a small-MTU path — is seen like any other. Bounded in datagrams, bytes
/// and fragments per datagram (<see cref="FragmentLimits"/>), timed out by packet time, every drop
/// counted.
/// <para>
/// Datagrams are told apart by addresses, identification, (IPv4) protocol and the realm of the
/// layers they arrived in, so two tenants' fragments never mix.
/// </para>
/// <para>
/// Overlaps (the classic evasions, RFC 1858 and Ptacek and Newsham 1998): the bytes that arrived
/// first are kept, as for TCP segments; an overlap with different bytes is counted. Hosts differ here
/// (Linux discards a datagram with overlapping fragments since 2018, RFC 5722 asks that of IPv6
/// hosts; older stacks let later bytes win), so the count says when what the sensor saw may not be
/// what the host saw. Tiny fragments (a first fragment too short for the TCP header) need nothing
/// special: nothing is decoded until the datagram is whole.
/// </para>
/// </summary>
public sealed class IpDefragmenter
{
    /// <summary>IPv4's total length and IPv6's payload length are 16 bits.</summary>
    private const int MaxDatagramPayload = 65_535;

    private readonly FragmentLimits _limits;
    private readonly SensorCounters _counters;
    private readonly long _timeoutNs;
    private readonly Dictionary<FragmentKey, Datagram> _inProgress = new();
    /// <summary>Datagrams by age (first fragment), oldest first: timeouts and evictions take from the head.</summary>
    private Datagram? _oldest, _newest;
    private readonly Stack<Datagram> _spare = new();
    private long _bytesHeld;
    private long _now;

    public IpDefragmenter(FragmentLimits limits, SensorCounters counters)
    {
        _limits = limits;
        _counters = counters;
        _timeoutNs = (long)limits.Timeout.TotalMicroseconds * 1000;
    }

    public int InProgress => _inProgress.Count;
    public long BytesHeld => _bytesHeld;

    /// <summary>
    /// Adds one fragment (its bytes are copied). True when it completed its datagram; the datagram's
    /// payload then stays valid until <see cref="Release"/>.
    /// </summary>
    public bool Add(in IpFragment fragment, long timestampNs, out ReassembledDatagram datagram)
    {
        datagram = default;
        AdvanceTime(timestampNs);
        _counters.IpFragments++;
        int start = fragment.Offset, end = fragment.Offset + fragment.Payload.Length;
        if (fragment.Truncated || (fragment.More && (fragment.Payload.Length & 7) != 0) || (fragment.More && fragment.Payload.IsEmpty))
        {
            // A piece cut by the snap length cannot be used; a non-final piece must be a multiple of
            // 8 bytes (RFC 8200 §4.5 says to discard it; RFC 791's offsets are in 8-byte units).
            _counters.IpFragmentsInvalid++;
            return false;
        }

        var key = new FragmentKey(fragment.Source, fragment.Destination, fragment.Id,
            fragment.Version == 4 ? fragment.Protocol : (byte)0, fragment.Version, fragment.Context.Realm);
        if (!_inProgress.TryGetValue(key, out var d))
        {
            if (_inProgress.Count >= _limits.MaxDatagrams) Evict(_oldest!);
            d = _spare.Count > 0 ? _spare.Pop() : new Datagram(_limits.MaxFragmentsPerDatagram);
            d.Start(key, fragment, _now);
            _inProgress.Add(key, d);
            Append(d);
        }

        if (++d.Fragments > _limits.MaxFragmentsPerDatagram || end > MaxDatagramPayload)
        {
            Drop(d); // beyond 65,535 bytes is the "ping of death"; endless fragments an attack on the tracker
            return false;
        }
        if (!fragment.More)
        {
            if ((d.TotalLength >= 0 && d.TotalLength != end) || d.HighestEnd > end)
            {
                Drop(d); // two different ends, or bytes beyond the end: the datagram cannot be trusted
                return false;
            }
            d.TotalLength = end;
        }
        else if (d.TotalLength >= 0 && end > d.TotalLength)
        {
            Drop(d);
            return false;
        }
        if (start == 0 && fragment.Version == 6) d.Protocol = fragment.Protocol; // RFC 8200 §4.5: the offset-0 fragment's

        int added = d.Insert(start, fragment.Payload, out bool conflict);
        if (added == 0) _counters.IpFragmentsDuplicate++;
        if (conflict) _counters.IpFragmentOverlapConflicts++;
        _bytesHeld += added;
        while (_bytesHeld > _limits.MaxBytes && _oldest is { } victim && victim != d) Evict(victim);

        if (!d.IsComplete) return false;
        _inProgress.Remove(d.Key);
        Unlink(d);
        _counters.IpDatagramsReassembled++;
        datagram = new ReassembledDatagram(d, d.Buffer.AsSpan(0, d.TotalLength));
        return true;
    }

    /// <summary>Gives a completed datagram's buffer back (after its payload has been used).</summary>
    public void Release(in ReassembledDatagram datagram) => Release(datagram.Owner);

    internal void Release(Datagram d)
    {
        _bytesHeld -= d.BytesCovered;
        d.Clear();
        _spare.Push(d);
    }

    /// <summary>Packet time moved on: datagrams not complete within the timeout are given up.</summary>
    public void AdvanceTime(long timestampNs)
    {
        if (timestampNs > _now) _now = timestampNs;
        while (_oldest is { } d && _now - d.FirstNs > _timeoutNs)
        {
            _counters.IpFragmentDatagramsTimedOut++;
            Discard(d);
        }
    }

    /// <summary>End of input: what is still incomplete is counted and let go.</summary>
    public void Finish()
    {
        while (_oldest is { } d)
        {
            _counters.IpFragmentDatagramsIncomplete++;
            Discard(d);
        }
    }

    private void Evict(Datagram d)
    {
        _counters.IpFragmentDatagramsEvicted++;
        Discard(d);
    }

    private void Drop(Datagram d)
    {
        _counters.IpFragmentDatagramsDropped++;
        Discard(d);
    }

    private void Discard(Datagram d)
    {
        _inProgress.Remove(d.Key);
        Unlink(d);
        _bytesHeld -= d.BytesCovered;
        d.Clear();
        _spare.Push(d);
    }

    private void Append(Datagram d)
    {
        d.Older = _newest;
        d.Newer = null;
        if (_newest is null) _oldest = d; else _newest.Newer = d;
        _newest = d;
    }

    private void Unlink(Datagram d)
    {
        if (d.Older is null) _oldest = d.Newer; else d.Older.Newer = d.Newer;
        if (d.Newer is null) _newest = d.Older; else d.Newer.Older = d.Older;
        d.Older = d.Newer = null;
    }

    internal readonly record struct FragmentKey(UInt128 Source, UInt128 Destination, uint Id, byte Protocol, byte Version, ulong Realm);

    /// <summary>One datagram in progress: its bytes so far and which ranges of it they cover.</summary>
    internal sealed class Datagram
    {
        /// <summary>Covered byte ranges [start, end), sorted, disjoint and not touching (merged).</summary>
        private readonly (int Start, int End)[] _ranges;
        private int _rangeCount;

        public Datagram(int maxFragments) => _ranges = new (int, int)[maxFragments + 1];

        public FragmentKey Key;
        public byte Version, Protocol;
        public UInt128 Source, Destination;
        public Encapsulation Context;
        public long FirstNs;
        public int Fragments;
        /// <summary>Known once the last fragment (MF / M clear) arrived; -1 before.</summary>
        public int TotalLength = -1;
        public int BytesCovered;
        public byte[] Buffer = [];
        public Datagram? Older, Newer;

        public int HighestEnd => _rangeCount == 0 ? 0 : _ranges[_rangeCount - 1].End;
        public bool IsComplete => TotalLength >= 0 && (TotalLength == 0 || (_rangeCount == 1 && _ranges[0].Start == 0 && _ranges[0].End == TotalLength));

        public void Start(FragmentKey key, in IpFragment first, long now)
        {
            Key = key;
            Version = first.Version;
            Protocol = first.Protocol;
            Source = first.Source;
            Destination = first.Destination;
            Context = first.Context;
            FirstNs = now;
        }

        /// <summary>
        /// Copies the bytes of [start, start + data.Length) that are not there yet (first wins) and
        /// reports whether any already there differ. Returns the number of new bytes.
        /// </summary>
        public int Insert(int start, ReadOnlySpan<byte> data, out bool conflict)
        {
            conflict = false;
            int end = start + data.Length;
            if (data.IsEmpty) return 0;
            Grow(end);
            int added = 0, at = start;
            for (int i = 0; i < _rangeCount && at < end; i++)
            {
                var (rs, re) = _ranges[i];
                if (re <= at) continue;
                if (rs >= end) break;
                if (rs > at)
                {
                    data[(at - start)..(rs - start)].CopyTo(Buffer.AsSpan(at));
                    added += rs - at;
                }
                int overlapFrom = Math.Max(at, rs), overlapTo = Math.Min(end, re);
                if (!conflict && !data[(overlapFrom - start)..(overlapTo - start)].SequenceEqual(Buffer.AsSpan(overlapFrom, overlapTo - overlapFrom)))
                    conflict = true;
                at = overlapTo;
            }
            if (at < end)
            {
                data[(at - start)..].CopyTo(Buffer.AsSpan(at));
                added += end - at;
            }
            if (added > 0) Cover(start, end);
            BytesCovered += added;
            return added;
        }

        private void Cover(int start, int end)
        {
            // Find the first range that ends at or after start (touching ranges merge), fold in every
            // range that starts at or before end, and put the union in their place.
            int first = 0;
            while (first < _rangeCount && _ranges[first].End < start) first++;
            int last = first;
            int s = start, e = end;
            while (last < _rangeCount && _ranges[last].Start <= end)
            {
                s = Math.Min(s, _ranges[last].Start);
                e = Math.Max(e, _ranges[last].End);
                last++;
            }
            int removed = last - first;
            if (removed == 0)
            {
                Array.Copy(_ranges, first, _ranges, first + 1, _rangeCount - first);
                _rangeCount++;
            }
            else if (removed > 1)
            {
                Array.Copy(_ranges, last, _ranges, first + 1, _rangeCount - last);
                _rangeCount -= removed - 1;
            }
            _ranges[first] = (s, e);
        }

        private void Grow(int needed)
        {
            if (Buffer.Length >= needed) return;
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxDatagramPayload, Math.Max(needed, Buffer.Length * 2)));
            Buffer.AsSpan().CopyTo(bigger);
            if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = bigger;
        }

        public void Clear()
        {
            if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
            _rangeCount = 0;
            Fragments = 0;
            TotalLength = -1;
            BytesCovered = 0;
            Context = default;
        }
    }
}
