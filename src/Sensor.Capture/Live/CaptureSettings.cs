namespace Sensor.Capture.Live;

/// <summary>How to open a live interface. Defaults suit a SPAN port carrying mixed traffic.</summary>
public sealed record CaptureSettings
{
    public required string Interface { get; init; }
    /// <summary>A BPF filter; when empty one is built from <see cref="Ports"/> ("tcp" when no ports).</summary>
    public string? Filter { get; init; }
    /// <summary>Mail ports to capture. Empty: every TCP flow is examined, so mail on unusual ports is found.</summary>
    public IReadOnlyList<ushort> Ports { get; init; } = [];
    public int SnapLength { get; init; } = 65_535;
    /// <summary>Kernel capture buffer (libpcap pcap_set_buffer_size), in MiB.</summary>
    public int BufferSizeMiB { get; init; } = 64;
    public bool Promiscuous { get; init; } = true;
    /// <summary>AF_PACKET fanout group (0-65535) shared with the other sensor processes on this interface; null: capture alone.</summary>
    public int? FanoutGroup { get; init; }

    /// <summary>The interface, and the fanout group when there is one: how logs and the service status name this capture.</summary>
    public string Description => FanoutGroup is { } g ? $"{Interface} (fanout group {g})" : Interface;

    public string EffectiveFilter => !string.IsNullOrWhiteSpace(Filter) ? Filter!
        : Ports.Count == 0 ? "tcp"
        : "tcp and (" + string.Join(" or ", Ports.Select(p => $"port {p}")) + ")";
}
