using Sensor.Core.Guessing;

namespace Sensor.Core.Tests.Guessing;

/// <summary>
/// The detector's bounded LRU table against a plain model (a list in least-recently-failing
/// order): the same keys present, the same evictions, in any order of touches and expiries, also
/// when hashes collide in clusters that wrap around the end of the slot array.
/// </summary>
public sealed class FailureTableTests
{
    /// <summary>Hashes that collide on purpose: with <c>Modulo = 1</c> every key has the same home slot.</summary>
    private sealed class CollidingComparer(int modulo) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => x == y;
        public int GetHashCode(int key) => (key % modulo) * 7 + 13; // homes near the end of small arrays, so clusters wrap
    }

    [Theory]
    [InlineData(1, 8, 1)]
    [InlineData(3, 50, 2)]
    [InlineData(1_000_000, 100, 3)]
    [InlineData(5, 300, 4)]
    [InlineData(1_000_000, 1, 5)]
    public void TouchesAndExpiriesMatchAPlainLeastRecentlyFailingList(int modulo, int capacity, int seed)
    {
        var table = new FailureTable<int>(capacity, new CollidingComparer(modulo));
        var model = new List<(int Key, long Ns)>(); // oldest first
        long evicted = 0;
        var rng = new Random(seed);
        long now = 0;
        const long window = 1_000;

        for (int step = 0; step < 20_000; step++)
        {
            now += rng.Next(0, 30);
            if (rng.Next(50) == 0)
            {
                table.ExpireIdle(now, window);
                model.RemoveAll(m => now - m.Ns > window);
            }
            int key = rng.Next(capacity * 3);
            ref var track = ref table.Touch(key);
            track.LastNs = now;
            int at = model.FindIndex(m => m.Key == key);
            if (at >= 0) model.RemoveAt(at);
            else if (model.Count >= capacity)
            {
                model.RemoveAt(0);
                evicted++;
            }
            model.Add((key, now));

            Assert.Equal(key, track.Key);
            Assert.Equal(model.Count, table.Count);
            Assert.True(table.Count <= capacity);
            Assert.Equal(evicted, table.Evicted);
            if (step % 500 == 0)
            {
                // Every remembered key is still found (and touched again, oldest first, so the model keeps the order).
                foreach (var (k, _) in model)
                {
                    ref var t = ref table.Touch(k);
                    Assert.Equal(k, t.Key);
                    t.LastNs = now;
                }
                model = model.Select(m => (m.Key, now)).ToList();
                Assert.Equal(evicted, table.Evicted);
            }
        }
    }

    [Fact]
    public void ATouchedTrackIsTheLastToBeEvicted()
    {
        var table = new FailureTable<string>(3, StringComparer.Ordinal);
        table.Touch("a").Alerted = true;
        table.Touch("b");
        table.Touch("c");
        Assert.True(table.Touch("a").Alerted); // found again, and now the most recently failing
        table.Touch("d"); // evicts b, the least recently failing
        Assert.Equal(1, table.Evicted);
        Assert.True(table.Touch("a").Alerted);
        Assert.Equal(1, table.Evicted);
        Assert.False(table.Touch("b").Alerted); // b was forgotten: a new track, and c goes
        Assert.Equal(2, table.Evicted);
        Assert.Equal(3, table.Count);
    }
}
