namespace Sensor.Integration.Tests.Live;

/// <summary>
/// A veth pair whose far end lives in a network namespace the test creates: frames replayed into
/// the far end arrive on the near end, where the sensor captures. Nothing is routed anywhere else.
/// </summary>
public sealed class TestNetwork : IDisposable
{
    public TestNetwork(string tag)
    {
        Namespace = $"sensor-test-{tag}";
        Near = $"snsn{tag}";
        Far = $"snsf{tag}";
        Cmd("ip", "netns", "add", Namespace);
        CreateLink();
    }

    public string Namespace { get; }
    public string Near { get; }
    public string Far { get; }

    public void CreateLink()
    {
        Cmd("ip", "link", "add", Near, "type", "veth", "peer", "name", Far);
        Cmd("ip", "link", "set", Far, "netns", Namespace);
        Cmd("ip", "link", "set", Near, "up");
        Cmd("ip", "netns", "exec", Namespace, "ip", "link", "set", Far, "up");
    }

    /// <summary>Deleting one end of a veth deletes both: the sensor's interface disappears.</summary>
    public void DeleteLink() => Cmd("ip", "link", "del", Near);

    /// <summary>Replays a capture (already rewritten into 127.0.0.0/8) from the namespace side.</summary>
    public void Replay(string pcap) =>
        Cmd("ip", "netns", "exec", Namespace, "tcpreplay", "-q", "--topspeed", "-i", Far, pcap);

    /// <summary>Copies a capture with its addresses moved into 127.0.0.0/8 (the network-safety rule for replays).</summary>
    public static string RewriteToLoopback(string pcap, string outDir)
    {
        var output = Path.Combine(outDir, Path.GetFileName(pcap));
        Cmd("tcprewrite", "--pnat=10.0.0.0/8:127.0.0.0/8", $"--infile={pcap}", $"--outfile={output}");
        return output;
    }

    public static void Cmd(string file, params string[] args)
    {
        var (code, _, err) = ExternalProcess.RunToEnd(file, args, TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {code}: {err}");
    }

    public void Dispose()
    {
        try { ExternalProcess.RunToEnd("ip", ["link", "del", Near], TimeSpan.FromSeconds(10)); } catch (InvalidOperationException) { }
        ExternalProcess.RunToEnd("ip", ["netns", "del", Namespace], TimeSpan.FromSeconds(10));
    }
}
