namespace Sensor.Capture.Live;

/// <summary>
/// TEST ONLY: makes the capture thread or an analysis worker fail for real, so the integration
/// tests can prove what such a failure does to the service (it stops with exit 5, what was found
/// before is flushed, health stops). There is no honest way to provoke it from outside: libpcap read
/// errors are cured by reopening (and are retried), and analyzer bugs stay inside their connection
/// (FaultBoundary).
/// <para>
/// <c>MAIL_SENSOR_TEST_FAULT=capture-thread:PATH</c> or <c>analysis-worker:PATH</c> (the first
/// worker), read once at start; the fault fires once PATH exists, so a test first makes the events
/// it wants kept, then creates the file. <c>read-frame:N</c>: `sensor read` (one thread) fails at
/// the Nth frame it analyses, with the findings of the frames before it still in its buffers. Deliberately not a SENSOR_ variable: those are
/// configuration keys. Unset in any real deployment; the service logs a warning when it is set.
/// </para>
/// </summary>
public sealed class TestFault
{
    public const string Variable = "MAIL_SENSOR_TEST_FAULT";

    public enum Site { CaptureThread, AnalysisWorker, ReadFrame }

    private readonly string _trigger;
    private readonly long _frameLimit;
    private long _frames;

    private TestFault(Site where, string trigger, long frameLimit = 0)
    {
        Where = where;
        _trigger = trigger;
        _frameLimit = frameLimit;
    }

    /// <summary>The variable's raw value (null when unset), for the start-up warning.</summary>
    public static string? Setting { get; } = Environment.GetEnvironmentVariable(Variable);

    /// <summary>The fault this process was started with, or null (also when the value is not understood).</summary>
    public static TestFault? Armed { get; } = Parse(Setting);

    public Site Where { get; }

    /// <summary>Throws once the trigger file exists; a file check, done only when a fault is armed.</summary>
    public void ThrowIfDue()
    {
        if (File.Exists(_trigger))
            throw new InvalidOperationException($"test fault injected on the {(Where == Site.CaptureThread ? "capture thread" : "analysis worker")} ({Variable})");
    }

    /// <summary><see cref="Site.ReadFrame"/>: counts a frame and throws at the Nth.</summary>
    public void CountFrameAndThrowIfDue()
    {
        if (++_frames >= _frameLimit)
            throw new InvalidOperationException($"test fault injected at frame {_frames} of the read ({Variable})");
    }

    private static TestFault? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        int colon = value.IndexOf(':');
        if (colon < 0 || colon == value.Length - 1) return null;
        var path = value[(colon + 1)..];
        return value[..colon] switch
        {
            "capture-thread" => new TestFault(Site.CaptureThread, path),
            "analysis-worker" => new TestFault(Site.AnalysisWorker, path),
            "read-frame" when long.TryParse(path, out long n) && n > 0 => new TestFault(Site.ReadFrame, "", n),
            _ => null,
        };
    }
}
