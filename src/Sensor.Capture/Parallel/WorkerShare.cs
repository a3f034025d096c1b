using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture.Parallel;

/// <summary>
/// Each worker holds its share of the global bounds (connections, out-of-order bytes, partial
/// lines), so that all workers together stay within what one pipeline would.
/// </summary>
internal static class WorkerShare
{
    public static ReassemblyLimits Of(ReassemblyLimits limits, int workers) => limits with
    {
        MaxFlows = Math.Max(1, limits.MaxFlows / workers),
        MaxBufferedBytesTotal = Math.Max(1, limits.MaxBufferedBytesTotal / workers),
    };

    public static AnalysisOptions Of(AnalysisOptions options, int workers) => options with
    {
        MaxPartialLineBytes = Math.Max(1, options.MaxPartialLineBytes / workers),
    };
}
