namespace Sensor.Core.Text;

/// <summary>
/// Bytes held in partial lines across every connection of one pipeline. Each line is bounded on its
/// own (MaxLineLength), but a hundred thousand connections each holding most of a line would still
/// be gigabytes; past this budget a new partial line is dropped as too long, and counted.
/// </summary>
public sealed class LineBudget(long maxBytes, Health.SensorCounters counters)
{
    public long MaxBytes { get; } = maxBytes;
    public long HeldBytes { get; private set; }

    internal bool TryTake(int bytes)
    {
        if (HeldBytes + bytes > MaxBytes)
        {
            counters.LineBudgetHits++;
            return false;
        }
        HeldBytes += bytes;
        return true;
    }

    internal void Give(int bytes) => HeldBytes -= bytes;
}
