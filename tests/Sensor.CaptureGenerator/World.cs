using System.Text;

namespace Sensor.CaptureGenerator;

/// <summary>A mail server: its address, name, greeting style and what it offers.</summary>
internal sealed class MailServer
{
    public required uint Ip { get; init; }
    public required string Host { get; init; }
    public required int Style { get; init; }          // 0 Dovecot-like, 1 Courier-like, 2 plain
    public required bool OffersStartTls { get; init; }
    public required bool LiteralPlus { get; init; }
    public required bool Pipelining { get; init; }
}

/// <summary>
/// What all flows share: the options, the expected counts, the hosts, and the pools of bytes that
/// flows send by reference (message bodies, random "TLS" bytes, web text), built once from the seed.
/// Its size depends on --body-kib only, never on --sessions.
/// </summary>
internal sealed class World
{
    public const int ClientCount = 8192;
    public const int ServerCount = 36;
    public const int WebServerCount = 24;

    public readonly Options Options;
    public readonly Tally Tally = new();
    public readonly MailServer[] Servers = new MailServer[ServerCount];
    public readonly uint[] WebServers = new uint[WebServerCount];
    private readonly ushort[] _clientPorts = new ushort[ClientCount];

    /// <summary>Message bodies (each exactly --body-kib KiB) and their POP3 dot-stuffed forms.</summary>
    public readonly byte[][] Bodies;
    public readonly byte[][] StuffedBodies;
    /// <summary>Random bytes that stand in for TLS records.</summary>
    public readonly byte[] RandomPool = new byte[1 << 20];
    /// <summary>Plain text that stands in for web pages.</summary>
    public readonly byte[] TextPool;

    public World(Options options, Random rng)
    {
        Options = options;
        for (int i = 0; i < ServerCount; i++)
        {
            Servers[i] = new MailServer
            {
                Ip = Ip(10, 2, 0, (byte)(i + 1)),
                Host = $"mail{i + 1}.example.net",
                Style = rng.Next(3),
                OffersStartTls = rng.Next(100) < 88,
                LiteralPlus = rng.Next(2) == 0,
                Pipelining = rng.Next(2) == 0,
            };
        }
        for (int i = 0; i < WebServerCount; i++) WebServers[i] = Ip(10, 3, 0, (byte)(i + 1));
        for (int i = 0; i < ClientCount; i++) _clientPorts[i] = (ushort)rng.Next(32768, 61000);
        rng.NextBytes(RandomPool);

        int bodyBytes = options.BodyKib * 1024;
        // At most 32 distinct bodies and about 32 MiB of them (plus their dot-stuffed copies).
        int poolCount = bodyBytes == 0 ? 0 : Math.Clamp((32 << 20) / bodyBytes, 1, 32);
        Bodies = new byte[poolCount][];
        StuffedBodies = new byte[poolCount][];
        for (int i = 0; i < poolCount; i++)
        {
            Bodies[i] = Content.MessageBody(rng, bodyBytes, i);
            StuffedBodies[i] = Content.DotStuff(Bodies[i]);
        }
        TextPool = Content.WebText(rng, 256 * 1024);
    }

    public static uint Ip(byte a, byte b, byte c, byte d) => (uint)(a << 24 | b << 16 | c << 8 | d);

    /// <summary>Client address number i: 10.1.x.y, y in 1..254.</summary>
    public static uint ClientIp(int i) => Ip(10, 1, (byte)(i / 254), (byte)(i % 254 + 1));

    /// <summary>The next ephemeral port of a client: increasing by small steps in 32768..60999, so no
    /// connection of the capture reuses an earlier one's four-tuple.</summary>
    public ushort NextClientPort(int client, Random rng)
    {
        int p = _clientPorts[client] + rng.Next(1, 8);
        if (p > 60999) p = 32768 + (p - 61000);
        _clientPorts[client] = (ushort)p;
        return (ushort)p;
    }

    public static string IpText(uint ip) => $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}";

    public static ReadOnlyMemory<byte> Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
