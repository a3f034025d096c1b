namespace Sensor.Capture.Live;

/// <summary>
/// What kind of trouble a live capture met. The kind, not the wording, decides what happens next:
/// wait and retry, fail as a usage error, or give up for good.
/// </summary>
public enum CaptureProblem
{
    /// <summary>No interface of that name (yet): a SPAN NIC whose driver loads late, a veth not made yet, a typo.</summary>
    NoSuchInterface,
    /// <summary>The interface exists but is down.</summary>
    InterfaceDown,
    /// <summary>libpcap could not open it for another reason that may pass.</summary>
    OpenFailed,
    /// <summary>Reading failed (the interface went down or away under the capture); reopening may cure it.</summary>
    ReadFailed,
    /// <summary>No CAP_NET_RAW: will not fix itself.</summary>
    PermissionDenied,
    /// <summary>libpcap is not installed: will not fix itself.</summary>
    LibpcapMissing,
    /// <summary>The BPF filter does not compile: a usage error.</summary>
    InvalidFilter,
    /// <summary>A link type the decoder does not handle: will not fix itself.</summary>
    UnsupportedLinkType,
    /// <summary>The kernel refused the AF_PACKET fanout group (another mode or interface holds its id): a configuration to fix.</summary>
    FanoutRefused,
}
