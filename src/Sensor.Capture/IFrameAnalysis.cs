using PacketDotNet;
using Sensor.Core.Health;

namespace Sensor.Capture;

/// <summary>What a capture loop feeds: one pipeline, or live workers sharing the flows.</summary>
public interface IFrameAnalysis
{
    /// <param name="frame">Valid only during the call.</param>
    void OnFrame(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, long timestampNs);

    /// <summary>Time passes without packets (a quiet link): idle connections expire.</summary>
    void AdvanceTime(long timestampNs);

    /// <summary>End of input: every connection is closed and pending logins settled.</summary>
    void Finish();

    /// <summary>A <c>server</c> event for every server known, at the latest capture time (after <see cref="Finish"/>).</summary>
    void ReportServers();

    /// <summary>The counters so far (a sum over workers; may be read from another thread).</summary>
    SensorCounters Counters { get; }

    int FlowCount { get; }

    /// <summary>The server inventory's size and evictions at its cap (may be read from another thread: a health snapshot).</summary>
    (int Tracked, long Evicted) ServerInventory { get; }
}
