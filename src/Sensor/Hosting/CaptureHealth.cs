using Sensor.Capture.Live;
using Sensor.Core.Health;

namespace Sensor.Hosting;

/// <summary>
/// A point-in-time view of capture health, read from the counters the capture thread updates
/// (64-bit reads are atomic on the platforms we run on; a snapshot may be a packet stale).
/// </summary>
public sealed record CaptureHealth(
    long PacketsReceived, long DroppedByKernel, long DroppedByInterface, long PacketsAnalysed, long Bytes,
    int Flows, long BytesBuffered, long Gaps, long EventsWritten, long CaptureRestarts, long AnalyzerFaults, long EventsLost,
    long FragmentsLost, long EncapsulationsSkipped)
{
    public static CaptureHealth From(CaptureStatistics stats, SensorCounters c, int flows, long eventsWritten, long eventsLost) =>
        new(stats.Received, stats.DroppedByKernel, stats.DroppedByInterface, c.PacketsRead, c.BytesRead,
            flows, c.BytesBufferedNow, c.Gaps, eventsWritten, stats.Reopens, c.AnalyzerFaults, eventsLost,
            // What IP reassembly could not use or gave up (each may have held part of a login) ...
            c.IpFragmentsInvalid + c.IpFragmentDatagramsDropped + c.IpFragmentDatagramsTimedOut + c.IpFragmentDatagramsEvicted,
            // ... and packets in an encapsulation the decoder does not open or stacked beyond its bound.
            c.PacketsEncapsulationUnknown + c.PacketsTooDeep);
}
