using Serilog;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Whether points reach the server, logged when that changes: one line naming the cause when a fault
/// starts or its cause changes (never one per batch or per retry), one when writes go through again.
/// The fault of the moment is also <see cref="MetricCounters.LastError"/>, for health reporting.
/// </summary>
public sealed class DeliveryCondition(InfluxTarget target, MetricCounters counters, bool spooling)
{
    private string? _key;

    public bool Faulty => _key is not null;

    /// <summary>A write (or the /ping before it) that did not deliver: logged if the cause is new.</summary>
    public void Failed(WriteOutcome outcome, IInfluxWriteApi? api)
    {
        Interlocked.Increment(ref counters.WriteFailures);
        var problem = Problem(outcome, api);
        counters.LastError = $"InfluxDB at {target.Url} {problem}";
        // The cause, not its details: a changing request id or message must not make a new line.
        var key = outcome.Status == 0 ? "no answer: " + outcome.Message : $"{outcome.Status} {outcome.Endpoint}";

        if (key == _key) return;
        _key = key;
        Log.Warning("InfluxDB at {Url} {Problem}; {Consequence}", target.Url, problem,
            spooling ? "points are spooled and retried" : "points are retried (no usable spool: those that cannot wait in memory are dropped, counted)");
    }

    /// <summary>The server answered a write: logged if that ends a fault.</summary>
    public void Delivered(bool spoolHoldsMore)
    {
        if (_key is null) return;
        _key = null;
        counters.LastError = null;
        Log.Information("InfluxDB at {Url} takes points again{More}", target.Url, spoolHoldsMore ? "; the spooled points follow" : "");
    }

    private string Problem(WriteOutcome o, IInfluxWriteApi? api)
    {
        if (o.Problem is not null) return o.Problem;
        if (o.Status == 0)
            return o.Message.StartsWith("did not answer", StringComparison.Ordinal) || o.Message.StartsWith("had not answered", StringComparison.Ordinal)
                ? o.Message
                : $"cannot be reached: {o.Message}";
        var said = o.Message.Length > 0 ? $" ({o.Message})" : "";
        var status = InfluxAnswer.StatusText(o.Status);
        bool v1 = api is InfluxV1WriteApi;
        return o.Status switch
        {
            401 => $"answers {status}{said}: check the token" + (v1 ? " (for InfluxDB 1.x: user:password)" : ""),
            403 => $"answers {status}{said}: the credentials may not write to {(v1 ? "database" : "bucket")} \"{target.Bucket}\"",
            404 when v1 => $"answers {status} on {o.Endpoint}{said}",
            404 => $"answers {status} on {o.Endpoint}{said}: check that bucket \"{target.Bucket}\" exists in org \"{target.Org}\"",
            _ => $"answers {status} on {o.Endpoint}{said}",
        };
    }
}
