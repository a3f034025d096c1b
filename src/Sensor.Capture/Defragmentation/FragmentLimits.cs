namespace Sensor.Capture.Defragmentation;

/// <summary>
/// Bounds on IP fragment reassembly, so a flood of fragments that never complete costs a known amount
/// of memory. Defaults after Linux's (net.ipv4.ipfrag_time 30 s; ipfrag_high_thresh 4 MiB) and
/// Suricata's defrag settings (max-frags, trackers).
/// </summary>
public sealed record FragmentLimits
{
    /// <summary>Datagrams being put together at once; the oldest is given up for a new one.</summary>
    public int MaxDatagrams { get; init; } = 4096;
    /// <summary>Payload bytes held by all datagrams in progress.</summary>
    public long MaxBytes { get; init; } = 16L * 1024 * 1024;
    /// <summary>Fragments one datagram may take (duplicates count: an endless stream of them is an attack).</summary>
    public int MaxFragmentsPerDatagram { get; init; } = 128;
    /// <summary>Packet time after a datagram's first fragment by which it must be complete.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
