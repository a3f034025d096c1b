using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Sensor.Core.Tests.Reassembly;

/// <summary>Serial number arithmetic on TCP sequence numbers (RFC 1982 §3, RFC 9293 §3.4).</summary>
public sealed class TcpSequenceTests
{
    private static TcpSequence S(uint v) => new(v);

    [Fact]
    public void DifferenceIsHowFarTheOtherNumberLiesAfterThisOne()
    {
        Assert.Equal(100, S(1000).Difference(S(1100)));
        Assert.Equal(-100, S(1100).Difference(S(1000)));
        Assert.Equal(0, S(1000).Difference(S(1000)));
    }

    [Fact]
    public void DifferenceAcrossTheWraparoundIsTheShortWayRound()
    {
        Assert.Equal(16, S(uint.MaxValue - 9).Difference(S(6)));
        Assert.Equal(-16, S(6).Difference(S(uint.MaxValue - 9)));
        Assert.Equal(1, S(uint.MaxValue).Difference(S(0)));
    }

    [Fact]
    public void AddWrapsAt2To32()
    {
        Assert.Equal(5u, S(uint.MaxValue - 4).Add(10).Value);
        Assert.Equal(0u, S(uint.MaxValue).Add(1).Value);
        Assert.Equal(uint.MaxValue, S(0).Add(-1).Value);
        Assert.Equal(uint.MaxValue - 9, S(6).Add(-16).Value);
    }

    [Fact]
    public void NumbersJustAfterTheWraparoundCompareAsLater()
    {
        var beforeWrap = S(uint.MaxValue - 100);
        var afterWrap = S(100);
        Assert.True(beforeWrap < afterWrap);
        Assert.True(beforeWrap <= afterWrap);
        Assert.True(afterWrap > beforeWrap);
        Assert.True(afterWrap >= beforeWrap);
        Assert.False(afterWrap < beforeWrap);
        Assert.False(beforeWrap > afterWrap);
    }

    [Fact]
    public void EqualNumbersAreNeitherBeforeNorAfterEachOther()
    {
        Assert.True(S(7) == S(7));
        Assert.False(S(7) != S(7));
        Assert.False(S(7) < S(7));
        Assert.False(S(7) > S(7));
        Assert.True(S(7) <= S(7));
        Assert.True(S(7) >= S(7));
    }

    [Fact]
    public void JustUnderHalfTheSpaceAheadIsLaterAndJustOverIsEarlier()
    {
        var a = S(1000);
        Assert.Equal(int.MaxValue, a.Difference(a.Add(int.MaxValue)));
        Assert.True(a < a.Add(int.MaxValue));
        // 2^31 + 1 ahead is the same point as 2^31 - 1 behind.
        var overHalf = S(1000u + (1u << 31) + 1);
        Assert.Equal(int.MaxValue, overHalf.Difference(a));
        Assert.True(overHalf < a);
    }

    /// <summary>
    /// Exactly 2^31 apart RFC 1982 §3.2 leaves the order undefined. Here each number is before the
    /// other, so code asking "is this old data?" treats it as old from either side.
    /// </summary>
    [Fact]
    public void AtExactlyHalfTheSpaceEachNumberIsBeforeTheOther()
    {
        var a = S(1000);
        var b = S(1000u + (1u << 31));
        Assert.Equal(int.MinValue, a.Difference(b));
        Assert.Equal(int.MinValue, b.Difference(a));
        Assert.True(a < b);
        Assert.True(b < a);
        Assert.False(a > b);
        Assert.False(b > a);
        Assert.False(a == b);
    }

    [Property(MaxTest = 1000, Replay = "(20261201,7)")]
    public Property AddingTheDifferenceReachesTheOtherNumber() =>
        Prop.ForAll(ArbMap.Default.ArbFor<uint>(), ArbMap.Default.ArbFor<uint>(), (x, y) =>
            S(x).Add(S(x).Difference(S(y))) == S(y));

    [Property(MaxTest = 1000, Replay = "(4242,1013)")]
    public Property ComparisonAgreesWithTheSignOfTheDistanceAwayFromTheHalfWindow() =>
        Prop.ForAll(ArbMap.Default.ArbFor<uint>(), ArbMap.Default.ArbFor<int>(), (x, step) =>
        {
            var a = S(x);
            var b = a.Add(step);
            if (step == int.MinValue) return true; // the undefined half-window, tested above
            return (a < b) == (step > 0) && (a > b) == (step < 0) && (a == b) == (step == 0)
                   && a.Difference(b) == step && b.Difference(a) == -step;
        });
}
