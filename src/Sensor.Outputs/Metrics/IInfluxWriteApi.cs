namespace Sensor.Outputs.Metrics;

/// <summary>
/// One way of writing line protocol to a server. Answers are outcomes, not exceptions: a server that
/// is down, refuses or is not ready is the normal business of a metrics writer. Cancellation (timeout,
/// shutdown) is the one exception it lets through.
/// </summary>
public interface IInfluxWriteApi : IDisposable
{
    /// <summary>"v1 /write" or "v2 /api/v2/write", for the log.</summary>
    string Name { get; }

    Task<WriteOutcome> WriteAsync(IReadOnlyList<string> lines, CancellationToken cancel);
}
