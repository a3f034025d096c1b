namespace Sensor.Core.Health;

/// <summary>
/// Where a connection given up after an analyzer fault is reported (see Detection.FaultBoundary).
/// The executable points it at its log once at start-up; until then a line goes to stderr. The
/// report names the exception's type and where it was thrown, never its message: a message may
/// quote the wire bytes that caused it, and those may hold a password.
/// </summary>
public static class AnalyzerFaultLog
{
    private static Action<string, string> _writer = (flowId, where) =>
        Console.Error.WriteLine($"sensor: analyzer fault in connection {flowId} ({where}): that connection is no longer analysed");

    /// <summary>Receives the flow id and "ExceptionType at Type.Method".</summary>
    public static void Use(Action<string, string> writer) => _writer = writer;

    public static void Report(string flowId, Exception e)
    {
        var site = e.TargetSite is { } m ? $" at {m.DeclaringType?.Name}.{m.Name}" : "";
        _writer(flowId, e.GetType().Name + site);
    }
}
