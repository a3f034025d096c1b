using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Health;
using Sensor.Core.Reassembly;

namespace Sensor.Core.Detection;

/// <summary>
/// Keeps a bug in one connection's analysis to that connection. An exception from the consumer gives
/// that connection up (no more of its payload is wanted, nothing more of it is reported: its state can
/// no longer be trusted), is counted (<see cref="SensorCounters.AnalyzerFaults"/>) and reported once
/// with the flow id, and every other connection goes on. Crafted traffic must not be able to stop the
/// sensor by finding one bug. An output that can take no more events is not a connection's fault:
/// <see cref="EventSinkFailedException"/> passes through and stops the analysis.
/// </summary>
public sealed class FaultBoundary(IStreamConsumer inner, TcpFlow flow, SensorCounters counters) : IStreamConsumer
{
    private bool _faulted;

    public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        if (_faulted) return false;
        try
        {
            return inner.OnData(direction, data, timestampNs);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not EventSinkFailedException)
        {
            Fault(e);
            return false;
        }
    }

    public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        if (_faulted) return;
        try
        {
            inner.OnGap(direction, skippedBytes, timestampNs);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not EventSinkFailedException)
        {
            Fault(e);
        }
    }

    public void OnUnseenBytesAcknowledged(StreamDirection direction, long timestampNs)
    {
        if (_faulted) return;
        try
        {
            inner.OnUnseenBytesAcknowledged(direction, timestampNs);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not EventSinkFailedException)
        {
            Fault(e);
        }
    }

    public void OnClose(FlowCloseReason reason, long timestampNs)
    {
        if (_faulted) return;
        try
        {
            inner.OnClose(reason, timestampNs);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not EventSinkFailedException)
        {
            Fault(e);
        }
    }

    private void Fault(Exception e)
    {
        _faulted = true;
        counters.AnalyzerFaults++;
        AnalyzerFaultLog.Report(flow.FlowId, e);
    }
}
