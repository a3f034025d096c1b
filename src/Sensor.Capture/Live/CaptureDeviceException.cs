namespace Sensor.Capture.Live;

/// <summary>A live capture problem told in one sentence a person can act on.</summary>
public sealed class CaptureDeviceException(string message, CaptureProblem problem, Exception? inner = null)
    : Exception(message, inner)
{
    public CaptureProblem Problem { get; } = problem;

    /// <summary>True for trouble that may pass (interface missing, down or gone); false for permission, libpcap, filter or link type.</summary>
    public bool Retryable => Problem is CaptureProblem.NoSuchInterface or CaptureProblem.InterfaceDown
        or CaptureProblem.OpenFailed or CaptureProblem.ReadFailed;
}
