namespace Sensor.CaptureGenerator;

/// <summary>
/// Keeps --concurrency connections active, always writes the earliest pending packet of any of
/// them (so their packets interleave in time order like on a busy link), and starts a new
/// connection whenever one ends until all mail sessions and noise flows are written.
/// </summary>
internal static class Generator
{
    /// <summary>2025-01-02T10:00:00Z in microseconds since the Unix epoch.</summary>
    public const long StartUs = 1_735_812_000L * 1_000_000;

    private static readonly ushort[] ImapUnusualPorts = [8143, 1143, 10143, 2143];
    private static readonly ushort[] Pop3UnusualPorts = [1110, 8110, 10110, 2110];

    public static (Tally Tally, long Packets, long Bytes, long FileBytes) Run(Options o)
    {
        var master = new Random(o.Seed);
        var world = new World(o, master);
        long remainingMail = o.Sessions, remainingNoise = o.NoiseFlows;
        long nextId = 0;

        Flow NewFlow(long start)
        {
            bool noise = master.NextInt64(remainingMail + remainingNoise) < remainingNoise;
            var rng = new Random(master.Next());
            long id = nextId++;
            int client = rng.Next(World.ClientCount);
            uint clientIp = World.ClientIp(client);
            ushort clientPort = world.NextClientPort(client, rng);
            var tally = world.Tally;
            if (noise)
            {
                remainingNoise--;
                tally.NoiseFlows++;
                uint server = world.WebServers[rng.Next(world.WebServers.Length)];
                if (rng.Next(100) < 60) { tally.HttpFlows++; return new HttpFlow(world, id, start, clientIp, clientPort, server, rng); }
                tally.TlsFlows++;
                return new TlsFlow(world, id, start, clientIp, clientPort, server, rng);
            }
            remainingMail--;
            tally.MailSessions++;
            var srv = world.Servers[rng.Next(world.Servers.Length)];
            bool imap = rng.Next(100) < 55;
            bool unusual = rng.Next(100) < 5;
            if (unusual) tally.UnusualPortSessions++;
            if (imap)
            {
                tally.ImapSessions++;
                ushort port = unusual ? ImapUnusualPorts[rng.Next(ImapUnusualPorts.Length)] : (ushort)143;
                return new ImapFlow(world, id, start, clientIp, clientPort, srv, port, rng);
            }
            tally.Pop3Sessions++;
            ushort p3 = unusual ? Pop3UnusualPorts[rng.Next(Pop3UnusualPorts.Length)] : (ushort)110;
            return new Pop3Flow(world, id, start, clientIp, clientPort, srv, p3, rng);
        }

        var queue = new PriorityQueue<Flow, (long Time, long Id)>(o.Concurrency + 1);
        void Start(long time)
        {
            var f = NewFlow(time);
            f.Advance();
            queue.Enqueue(f, (f.Time, f.Id));
        }

        long t = StartUs;
        for (int i = 0; i < o.Concurrency && remainingMail + remainingNoise > 0; i++)
        {
            Start(t);
            t += master.Next(0, 1000);
        }

        using var writer = new PcapWriter(o.Out);
        while (queue.TryDequeue(out var f, out _))
        {
            writer.Write(f);
            if (f.Advance()) queue.Enqueue(f, (f.Time, f.Id));
            else if (remainingMail + remainingNoise > 0) Start(f.Time + master.Next(1, 300));
        }
        writer.Dispose();
        return (world.Tally, writer.Packets, writer.Bytes, writer.FileBytes);
    }
}
