namespace Sensor.Capture.Live;

/// <summary>A live capture problem told in one sentence a person can act on.</summary>
public sealed class CaptureDeviceException(string message, bool retryable, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>True for trouble that may pass (interface down or gone); false for a wrong name, permission or missing libpcap.</summary>
    public bool Retryable { get; } = retryable;
}
