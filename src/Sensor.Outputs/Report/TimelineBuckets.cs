using Sensor.Core.Events;

namespace Sensor.Outputs.Report;

/// <summary>
/// Logins over packet time, counted per bucket and per exposure × outcome. The bucket width starts at
/// one second and steps up a ladder of round widths whenever the span from the first to the last
/// bucket would exceed <see cref="MaxBuckets"/>: a folder of captures a year apart costs as little as
/// one of a minute. Each width is a multiple of the one before and buckets are aligned to the Unix
/// epoch, so widening merges whole buckets and the result does not depend on the order logins came in.
/// </summary>
public sealed class TimelineBuckets
{
    public const int MaxBuckets = 240;

    /// <summary>Bucket widths in seconds: 1 s … 1 min … 1 h … 1 day … 1 week, then 4-week steps doubling.</summary>
    private static readonly long[] Ladder =
        [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800, 2_419_200];

    public static readonly CredentialExposure[] Exposures =
        [CredentialExposure.Cleartext, CredentialExposure.Hashed, CredentialExposure.None, CredentialExposure.Unknown];
    public static readonly AuthOutcome[] Outcomes = [AuthOutcome.Success, AuthOutcome.Failure, AuthOutcome.Unknown];
    public static int SeriesCount => Exposures.Length * Outcomes.Length;

    private readonly SortedDictionary<long, long[]> _buckets = new();
    private int _rung;
    private long _extraWidth = 1; // beyond the ladder: its last width times this
    private long _firstKey, _lastKey; // of _buckets, kept so that each login costs no walk over them

    public long WidthSeconds => Ladder[_rung] * _extraWidth;

    public IEnumerable<(long StartSeconds, long[] Counts)> Buckets =>
        _buckets.Select(kv => (kv.Key * WidthSeconds, kv.Value));

    /// <summary>Series index of an exposure and outcome: exposures in <see cref="Exposures"/> order, outcomes within.</summary>
    public static int Series(CredentialExposure exposure, AuthOutcome outcome) =>
        Array.IndexOf(Exposures, exposure) * Outcomes.Length + Array.IndexOf(Outcomes, outcome);

    public void Add(long timestampNs, CredentialExposure exposure, AuthOutcome outcome)
    {
        long seconds = Math.DivRem(timestampNs, 1_000_000_000L, out long rest);
        if (rest < 0) seconds--; // floor, for times before 1970 a damaged file may claim
        long key = Math.DivRem(seconds, WidthSeconds, out long r) - (r < 0 ? 1 : 0);
        while (_buckets.Count > 0 && Math.Max(_lastKey, key) - Math.Min(_firstKey, key) + 1 > MaxBuckets)
        {
            Widen();
            key = Math.DivRem(seconds, WidthSeconds, out r) - (r < 0 ? 1 : 0);
        }
        if (!_buckets.TryGetValue(key, out var counts))
        {
            _buckets[key] = counts = new long[SeriesCount];
            _firstKey = _buckets.Count == 1 ? key : Math.Min(_firstKey, key);
            _lastKey = _buckets.Count == 1 ? key : Math.Max(_lastKey, key);
        }
        counts[Series(exposure, outcome)]++;
    }

    private void Widen()
    {
        long old = WidthSeconds;
        if (_rung < Ladder.Length - 1) _rung++;
        else _extraWidth *= 2;
        long factor = WidthSeconds / old;
        var merged = new SortedDictionary<long, long[]>();
        foreach (var (key, counts) in _buckets)
        {
            long k = Math.DivRem(key, factor, out long r) - (r < 0 ? 1 : 0);
            if (!merged.TryGetValue(k, out var into)) merged[k] = into = new long[SeriesCount];
            for (int i = 0; i < counts.Length; i++) into[i] += counts[i];
        }
        _buckets.Clear();
        foreach (var (k, v) in merged) _buckets[k] = v;
        _firstKey = _buckets.Keys.First();
        _lastKey = merged.Keys.Max();
    }
}
