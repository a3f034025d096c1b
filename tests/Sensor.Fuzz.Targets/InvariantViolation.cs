namespace Sensor.Fuzz.Targets;

/// <summary>
/// A property the sensor promises did not hold for an input. Thrown, like any exception escaping
/// the code under test, so that AFL++ records the input as a crash. Messages name fields and
/// counts, never a secret's value.
/// </summary>
public sealed class InvariantViolation(string message) : Exception(message)
{
    public static void Check(bool condition, string message)
    {
        if (!condition) throw new InvariantViolation(message);
    }
}
