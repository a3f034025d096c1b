namespace Sensor.Integration.Tests.Live;

/// <summary>
/// A random /30 for the two ends of a test veth, in link-local space: nothing can be routed beyond the
/// namespace end. Never 169.254.169.x, where clouds keep their metadata service. Random, so that other
/// runs of the suite on the machine (another clone) rarely pick the same one.
/// </summary>
public readonly record struct LinkLocalSubnet(int Third, int Fourth)
{
    public static LinkLocalSubnet Pick()
    {
        int third = Random.Shared.Next(1, 254);
        if (third == 169) third = 170;
        return new LinkLocalSubnet(third, Random.Shared.Next(64) * 4);
    }

    public string Near => $"169.254.{Third}.{Fourth + 1}";
    public string Far => $"169.254.{Third}.{Fourth + 2}";

    /// <summary>The same /30 under another /16 (a tunnel's overlay, e.g. "100.64").</summary>
    public (string Near, string Far) Under(string prefix16) => ($"{prefix16}.{Third}.{Fourth + 1}", $"{prefix16}.{Third}.{Fourth + 2}");
}
