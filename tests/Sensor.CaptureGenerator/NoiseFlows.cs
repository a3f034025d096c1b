namespace Sensor.CaptureGenerator;

/// <summary>
/// HTTP/1.1 on port 80: one to three requests on a keep-alive connection, bodies of a few KB, some
/// of which carry "USER bob\r\nPASS x\r\n" at line starts. Never a login.
/// </summary>
internal sealed class HttpFlow : Flow
{
    private static readonly string[] Paths = ["/", "/index.html", "/api/v1/status", "/static/app.js", "/news", "/login", "/download/report.txt", "/healthz"];
    private static readonly string[] Agents = ["curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "python-requests/2.31.0", "Wget/1.21.3"];
    private static readonly ReadOnlyMemory<byte> Decoy = World.Ascii("\r\nUSER bob\r\nPASS x\r\n");

    public HttpFlow(World w, long id, long start, uint clientIp, ushort clientPort, uint serverIp, Random rng)
        : base(w, id, start, clientIp, clientPort, serverIp, 80, rng) { }

    protected override IEnumerable<Msg> Script()
    {
        int requests = Rng.Next(1, 4);
        string host = $"www{(ServerIp & 255)}.example.org";
        string agent = Agents[Rng.Next(Agents.Length)];
        for (int r = 0; r < requests; r++)
        {
            bool lastRequest = r == requests - 1;
            string conn = lastRequest ? "close" : "keep-alive";
            if (Rng.Next(100) < 20)
            {
                // A POST whose body is a line-based "script" with POP3-looking commands
                var text = Slice(Rng.Next(200, 3000));
                int len = Decoy.Length + text.Length;
                string head = $"POST /api/v1/upload HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\nConnection: {conn}\r\n\r\n";
                yield return new Msg(true, World.Ascii(head), Decoy, text);
                yield return S($"HTTP/1.1 201 Created\r\nServer: nginx/1.24.0\r\nContent-Length: 0\r\nConnection: {conn}\r\n\r\n");
            }
            else
            {
                yield return C($"GET {Paths[Rng.Next(Paths.Length)]} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nAccept: */*\r\nConnection: {conn}\r\n\r\n");
                var text = Slice(Rng.Next(1000, 8000));
                bool decoy = Rng.Next(100) < 35;
                int len = text.Length + (decoy ? Decoy.Length : 0);
                string head = $"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Length: {len}\r\nConnection: {conn}\r\n\r\n";
                yield return decoy ? new Msg(false, World.Ascii(head), text, Decoy) : new Msg(false, World.Ascii(head), text);
            }
        }
        ClientClosesFirst = Rng.Next(100) < 30;
    }

    private ReadOnlyMemory<byte> Slice(int length) => W.TextPool.AsMemory(Rng.Next(W.TextPool.Length - length), length);
}

/// <summary>TLS-looking bytes on port 443: a handshake, then a few application-data exchanges.</summary>
internal sealed class TlsFlow : Flow
{
    public TlsFlow(World w, long id, long start, uint clientIp, ushort clientPort, uint serverIp, Random rng)
        : base(w, id, start, clientIp, clientPort, serverIp, 443, rng) { }

    protected override IEnumerable<Msg> Script()
    {
        yield return TlsRecords.Record(true, TlsRecords.Handshake, Rng.Next(250, 600), W, Rng, 0x0301);
        yield return TlsRecords.Record(false, TlsRecords.Handshake, Rng.Next(2500, 5000), W, Rng);
        yield return TlsRecords.Record(true, TlsRecords.ApplicationData, Rng.Next(60, 120), W, Rng);
        int exchanges = Rng.Next(1, 6);
        for (int i = 0; i < exchanges; i++)
        {
            yield return TlsRecords.Record(true, TlsRecords.ApplicationData, Rng.Next(100, 800), W, Rng);
            yield return TlsRecords.Record(false, TlsRecords.ApplicationData, Rng.Next(300, 12000), W, Rng);
        }
        yield return TlsRecords.Record(true, TlsRecords.Alert, 26, W, Rng);
        ClientClosesFirst = true;
    }
}
