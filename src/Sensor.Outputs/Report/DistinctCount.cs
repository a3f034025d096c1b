namespace Sensor.Outputs.Report;

/// <summary>
/// Distinct values counted up to a cap (servers one client logged in to, clients that used one
/// username): a row's memory cannot grow with what a flood sends; past the cap the count is a floor.
/// </summary>
public sealed class DistinctCount<T>(int cap, IEqualityComparer<T>? comparer = null) where T : notnull
{
    private readonly HashSet<T> _seen = new(comparer);

    public int Count => _seen.Count;

    /// <summary>More distinct values were offered than the cap kept: <see cref="Count"/> is a lower bound.</summary>
    public bool Capped { get; private set; }

    public IEnumerable<T> Values => _seen;

    public void Add(T value)
    {
        if (_seen.Count < cap) _seen.Add(value);
        else if (!_seen.Contains(value)) Capped = true;
    }
}
