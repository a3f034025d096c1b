using Sensor.Core.Detection;

namespace Sensor.Core.Tests.Support;

/// <summary>
/// The analysis path as src/Sensor.Capture/PacketPipeline.cs wires it (reassembler, classifier,
/// sessions), minus the packet decoder: tests hand it TCP segments directly.
/// </summary>
public sealed class MailHarness
{
    public MailHarness(AnalysisOptions? options = null, ReassemblyLimits? limits = null)
    {
        Options = options ?? new AnalysisOptions();
        Context = new AnalysisContext(Options, new ServerPostureTracker(Sink), Counters);
        Reassembler = new TcpReassembler(new MailConsumerFactory(Context), limits ?? new ReassemblyLimits(), Counters,
            Options.ServerPorts);
    }

    public AnalysisOptions Options { get; }
    public CollectingSink Sink { get; } = new();
    public SensorCounters Counters { get; } = new();
    public AnalysisContext Context { get; }
    public TcpReassembler Reassembler { get; }
    public PacketClock Clock { get; } = new();

    public static MailHarness Revealing(bool reveal) => new(new AnalysisOptions { RevealSecrets = reveal });

    /// <summary>A connection from <paramref name="client"/> to <paramref name="server"/>, handshake already done unless told otherwise.</summary>
    public TcpConversation Connect(IpEndpoint client, IpEndpoint server, bool handshake = true,
        uint clientIsn = 1_000, uint serverIsn = 5_000_000)
    {
        var c = new TcpConversation(Reassembler, Clock, client, server, clientIsn, serverIsn);
        return handshake ? c.Handshake() : c;
    }

    public void Finish() => Reassembler.CloseAll();
}
