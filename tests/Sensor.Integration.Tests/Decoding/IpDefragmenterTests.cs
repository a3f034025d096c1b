using Sensor.Capture.Decoding;
using Sensor.Capture.Defragmentation;
using Sensor.Core.Flows;
using Sensor.Core.Health;

namespace Sensor.Integration.Tests.Decoding;

/// <summary>
/// The defragmenter alone: order, duplicates, the overlap policy (first bytes win, conflicts
/// counted), the classic evasions, lengths that disagree, and every bound, each drop counted.
/// </summary>
public sealed class IpDefragmenterTests
{
    private static readonly byte[] Data = Enumerable.Range(0, 4000).Select(i => (byte)(i * 7 + 3)).ToArray();
    private const long Second = 1_000_000_000;

    private static IpFragment Piece(int offset, int length, bool more, uint id = 1, byte version = 4, byte[]? data = null,
        bool truncated = false, Encapsulation context = default, byte protocol = 6) =>
        new(version, 10, 20, id, protocol, offset, more, (data ?? Data).AsSpan(offset, length), truncated, context);

    private static (IpDefragmenter Defrag, SensorCounters Counters) New(FragmentLimits? limits = null)
    {
        var c = new SensorCounters();
        return (new IpDefragmenter(limits ?? new FragmentLimits(), c), c);
    }

    [Fact]
    public void InOrderOutOfOrderAndDuplicatedPiecesGiveTheDatagram()
    {
        foreach (var order in new[] { new[] { 0, 1, 2 }, new[] { 2, 1, 0 }, new[] { 1, 2, 0 } })
        {
            var (d, c) = New();
            var pieces = new[] { (0, 1480, true), (1480, 1480, true), (2960, 1040, false) };
            bool done = false;
            foreach (int i in order.Append(order[0]).Take(3))
            {
                var (off, len, more) = pieces[i];
                if (d.Add(Piece(off, len, more), Second, out var datagram))
                {
                    Assert.True(datagram.Payload.SequenceEqual(Data));
                    Assert.Equal((byte)6, datagram.Protocol);
                    d.Release(datagram);
                    done = true;
                }
            }
            Assert.True(done);
            Assert.Equal(1, c.IpDatagramsReassembled);
            Assert.Equal(0, d.InProgress);
            Assert.Equal(0, d.BytesHeld);
        }
        var (d2, c2) = New();
        Assert.False(d2.Add(Piece(0, 1480, true), Second, out _));
        Assert.False(d2.Add(Piece(0, 1480, true), Second, out _)); // the same piece again
        Assert.Equal(1, c2.IpFragmentsDuplicate);
        Assert.Equal(0, c2.IpFragmentOverlapConflicts);
    }

    [Fact]
    public void OverlapsKeepTheFirstBytesAndConflictsAreCounted()
    {
        // RFC 1858's overlapping-fragment attack: a later piece rewrites bytes already received.
        var other = Data.Select(b => (byte)~b).ToArray();
        var (d, c) = New();
        Assert.False(d.Add(Piece(0, 1480, true), Second, out _));
        Assert.False(d.Add(Piece(8, 1480, true, data: other), Second, out _));
        Assert.True(d.Add(Piece(1488, 4000 - 1488, false), Second, out var datagram));
        Assert.True(datagram.Payload[..1480].SequenceEqual(Data.AsSpan(0, 1480))); // first wins
        Assert.True(datagram.Payload[1480..1488].SequenceEqual(other.AsSpan(1480, 8))); // the hole it alone filled
        Assert.True(datagram.Payload[1488..].SequenceEqual(Data.AsSpan(1488)));
        Assert.Equal(1, c.IpFragmentOverlapConflicts);
        d.Release(datagram);
    }

    [Fact]
    public void TinyFragmentsThatSplitTheTcpHeaderAreReassembled()
    {
        // The first piece holds 8 bytes: not even the TCP ports and flags (RFC 1858 §3.1).
        var (d, _) = New();
        bool done = false;
        for (int off = 0; off < 4000; off += 8)
        {
            int len = Math.Min(8, 4000 - off);
            done = d.Add(Piece(off, len, off + len < 4000), Second, out var datagram);
            if (done) { Assert.True(datagram.Payload.SequenceEqual(Data)); d.Release(datagram); }
        }
        Assert.False(done); // 500 pieces: beyond the default 128 per datagram
        var (d2, c2) = New(new FragmentLimits { MaxFragmentsPerDatagram = 500 });
        for (int off = 0; off < 4000; off += 8)
        {
            if (d2.Add(Piece(off, 8, off + 8 < 4000), Second, out var datagram))
            {
                Assert.True(datagram.Payload.SequenceEqual(Data));
                d2.Release(datagram);
            }
        }
        Assert.Equal(1, c2.IpDatagramsReassembled);
    }

    [Fact]
    public void TooManyPiecesOversizeDisagreeingEndsAndBadLengthsAreDroppedAndCounted()
    {
        var (d, c) = New(new FragmentLimits { MaxFragmentsPerDatagram = 4 });
        for (int i = 0; i < 5; i++) d.Add(Piece(0, 8, true), Second, out _);
        Assert.Equal(1, c.IpFragmentDatagramsDropped);
        Assert.Equal(0, d.InProgress);

        var big = new byte[70_000];
        var (d2, c2) = New();
        Assert.False(d2.Add(new IpFragment(4, 1, 2, 9, 6, 65_528, false, big.AsSpan(0, 100), false, default), Second, out _));
        Assert.Equal(1, c2.IpFragmentDatagramsDropped); // the "ping of death"

        var (d3, c3) = New();
        d3.Add(Piece(0, 1480, true), Second, out _);
        d3.Add(Piece(2960, 1040, false), Second, out _);
        Assert.False(d3.Add(Piece(1480, 1600, false), Second, out _)); // a second, different end
        Assert.Equal(1, c3.IpFragmentDatagramsDropped);

        var (d4, c4) = New();
        Assert.False(d4.Add(Piece(0, 1001, true), Second, out _)); // not a multiple of 8 (RFC 8200 §4.5)
        Assert.False(d4.Add(Piece(0, 1480, true, truncated: true), Second, out _)); // cut by the snap length
        Assert.Equal(2, c4.IpFragmentsInvalid);
        Assert.Equal(0, d4.InProgress);
    }

    [Fact]
    public void PacketTimeExpiresIncompleteDatagramsAndTheEndCountsTheRest()
    {
        var (d, c) = New(new FragmentLimits { Timeout = TimeSpan.FromSeconds(30) });
        d.Add(Piece(0, 1480, true, id: 1), 100 * Second, out _);
        d.Add(Piece(0, 1480, true, id: 2), 120 * Second, out _);
        d.AdvanceTime(129 * Second);
        Assert.Equal(2, d.InProgress);
        d.AdvanceTime(131 * Second);
        Assert.Equal(1, c.IpFragmentDatagramsTimedOut);
        // The rest of datagram 1 after its timeout starts a new datagram, which never completes.
        Assert.False(d.Add(Piece(1480, 2520, false, id: 1), 131 * Second, out _));
        d.Finish();
        Assert.Equal(2, c.IpFragmentDatagramsIncomplete);
        Assert.Equal(0, d.BytesHeld);
    }

    [Fact]
    public void TheBoundsOnDatagramsAndBytesEvictTheOldest()
    {
        var (d, c) = New(new FragmentLimits { MaxDatagrams = 3 });
        for (uint id = 1; id <= 5; id++) d.Add(Piece(0, 1480, true, id: id), Second, out _);
        Assert.Equal(3, d.InProgress);
        Assert.Equal(2, c.IpFragmentDatagramsEvicted);
        // The newest three survive: completing datagram 5 works, datagram 1 is gone.
        Assert.True(d.Add(Piece(1480, 2520, false, id: 5), Second, out var five));
        d.Release(five);
        Assert.False(d.Add(Piece(1480, 2520, false, id: 1), Second, out _));

        var (d2, c2) = New(new FragmentLimits { MaxBytes = 4000 });
        for (uint id = 1; id <= 4; id++) d2.Add(Piece(0, 1480, true, id: id), Second, out _);
        Assert.True(d2.BytesHeld <= 4000);
        Assert.Equal(2, c2.IpFragmentDatagramsEvicted);
    }

    [Fact]
    public void DatagramsAreKeptApartByIdAddressesVersionAndRealm()
    {
        var a = default(Encapsulation);
        a.Add(TunnelKind.Vxlan, 1, separatesTenants: true);
        var b = default(Encapsulation);
        b.Add(TunnelKind.Vxlan, 2, separatesTenants: true);
        var other = Data.Select(x => (byte)(x ^ 0x55)).ToArray();
        var (d, c) = New();
        d.Add(Piece(0, 1480, true, context: a), Second, out _);
        d.Add(Piece(0, 1480, true, context: b, data: other), Second, out _);
        d.Add(Piece(0, 1480, true, version: 6, data: other), Second, out _);
        Assert.Equal(3, d.InProgress);
        Assert.True(d.Add(Piece(1480, 2520, false, context: b, data: other), Second, out var fromB));
        Assert.True(fromB.Payload.SequenceEqual(other));
        Assert.Equal(b, fromB.Context);
        d.Release(fromB);
        Assert.Equal(0, c.IpFragmentOverlapConflicts);
    }

    [Fact]
    public void IPv6TakesTheNextHeaderOfTheOffsetZeroPiece()
    {
        // RFC 8200 §4.5: "Only the value from the Offset zero fragment packet is used for reassembly."
        var (d, _) = New();
        d.Add(Piece(1480, 2520, false, version: 6, protocol: 17), Second, out _);
        Assert.True(d.Add(Piece(0, 1480, true, version: 6, protocol: 6), Second, out var datagram));
        Assert.Equal((byte)6, datagram.Protocol);
        d.Release(datagram);
    }
}
