namespace Sensor.Fuzz.Targets;

/// <summary>
/// The fuzz targets by name: each takes one input and either returns or throws (an exception from
/// the sensor's code or an <see cref="InvariantViolation"/>), which AFL++ records as a crash.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } = ["pcap", "mail", "sasl"];

    /// <summary>The target called <paramref name="name"/>, or null. Dispose it when done (pcap removes its scratch file).</summary>
    /// <param name="singleThreaded">Leave out the checks that run code on several threads at once (under AFL++,
    /// whose edge map they would scramble: see <see cref="PcapTarget"/>).</param>
    public static FuzzTarget? Create(string name, bool singleThreaded = false)
    {
        switch (name)
        {
            case "pcap":
                var pcap = new PcapTarget(compareWithWorkers: !singleThreaded);
                return new FuzzTarget(name, pcap.Run, pcap);
            case "mail":
                return new FuzzTarget(name, MailTarget.Run);
            case "sasl":
                return new FuzzTarget(name, SaslTarget.Run);
            default:
                return null;
        }
    }
}

public delegate void InputAction(ReadOnlySpan<byte> input);

public sealed class FuzzTarget(string name, InputAction run, IDisposable? resources = null) : IDisposable
{
    public string Name { get; } = name;

    public void Run(ReadOnlySpan<byte> input) => run(input);

    public void Dispose() => resources?.Dispose();
}
