using Sensor.Capture.Live;
using Sensor.Core.Health;

namespace Sensor.Hosting;

/// <summary>
/// A point-in-time view of capture health, read from the counters the capture thread updates
/// (64-bit reads are atomic on the platforms we run on; a snapshot may be a packet stale).
/// </summary>
public sealed record CaptureHealth(
    long PacketsReceived, long DroppedByKernel, long DroppedByInterface, long PacketsAnalysed, long Bytes,
    int Flows, long BytesBuffered, long Gaps, long EventsWritten, long CaptureRestarts, long AnalyzerFaults, long EventsLost)
{
    public static CaptureHealth From(CaptureStatistics stats, SensorCounters c, int flows, long eventsWritten, long eventsLost) =>
        new(stats.Received, stats.DroppedByKernel, stats.DroppedByInterface, c.PacketsRead, c.BytesRead,
            flows, c.BytesBufferedNow, c.Gaps, eventsWritten, stats.Reopens, c.AnalyzerFaults, eventsLost);
}
