namespace Sensor.Capture.Live;

/// <summary>libpcap's counters for the open device (pcap_stats), summed over reopenings.</summary>
public sealed class CaptureStatistics
{
    public long Received;
    public long DroppedByKernel;
    public long DroppedByInterface;
    public long Reopens;
}
