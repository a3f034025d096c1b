using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 for the answers no real server gives on demand: a hang
/// (the connection is accepted, the request read, and nothing ever answered), 5xx, 413, 422. /ping
/// answers 204 with X-Influxdb-Version (InfluxDB 2 unless told otherwise); everything else is answered
/// by <see cref="Answer"/>, which can change while a test runs. Requests are recorded.
/// </summary>
public sealed class FakeInfluxServer : IDisposable
{
    /// <summary>An answer; <see cref="Hang"/> means none at all.</summary>
    public sealed record Reply(int Status, string Body = "", bool Hang = false);

    public static readonly Reply Hang = new(0, "", true);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly List<(string Method, string Path, string Body)> _requests = [];

    public FakeInfluxServer(string? version = "v2.7.11", bool hangEverything = false)
    {
        Version = version;
        HangEverything = hangEverything;
        _listener.Start();
        LogMark = LogCapture.Mark();
        _ = AcceptAsync();
    }

    /// <summary>Where the log lines logged since this server took its port start (the port may have been another test's before).</summary>
    public int LogMark { get; }

    /// <summary>The log lines that name this server, since it took its port.</summary>
    public List<string> LogLines() => LogCapture.Containing(Url, LogMark);

    public string? Version { get; }
    public bool HangEverything { get; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>What a request (path, body) other than /ping gets; 204 by default.</summary>
    public volatile Func<string, string, Reply> Answer = (_, _) => new Reply(204);

    public List<(string Method, string Path, string Body)> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    /// <summary>The points of every write that was answered 2xx, in the order they came.</summary>
    public List<string> Accepted
    {
        get { lock (_accepted) return [.. _accepted]; }
    }

    private readonly List<string> _accepted = [];

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients) _clients.Add(client);
                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            if (HangEverything)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }
            var reader = new StreamReader(stream, Encoding.UTF8, false, 1 << 16, leaveOpen: true);
            while (!_stop.IsCancellationRequested)
            {
                var requestLine = await reader.ReadLineAsync(_stop.Token);
                if (string.IsNullOrEmpty(requestLine)) return;
                var parts = requestLine.Split(' ');
                int length = 0;
                bool chunked = false;
                string? header;
                while (!string.IsNullOrEmpty(header = await reader.ReadLineAsync(_stop.Token)))
                {
                    var colon = header.IndexOf(':');
                    var name = header[..colon].Trim();
                    var value = header[(colon + 1)..].Trim();
                    if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) length = int.Parse(value);
                    if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked")) chunked = true;
                }
                var body = new StringBuilder();
                if (chunked)
                {
                    while (true)
                    {
                        int size = Convert.ToInt32((await reader.ReadLineAsync(_stop.Token))!.Split(';')[0], 16);
                        if (size == 0) { await reader.ReadLineAsync(_stop.Token); break; }
                        body.Append(await ReadAsync(reader, size));
                        await reader.ReadLineAsync(_stop.Token);
                    }
                }
                else if (length > 0) body.Append(await ReadAsync(reader, length));
                // Bodies are ASCII line protocol here, so characters and bytes count the same.
                var path = parts[1];
                lock (_requests) _requests.Add((parts[0], path, body.ToString()));

                Reply reply;
                string headers = Version is null ? "" : $"X-Influxdb-Version: {Version}\r\n";
                if (path.StartsWith("/ping", StringComparison.Ordinal)) reply = new Reply(204);
                else reply = Answer(path, body.ToString());
                if (reply.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                if (reply.Status is >= 200 and < 300 && !path.StartsWith("/ping", StringComparison.Ordinal))
                    lock (_accepted) _accepted.AddRange(body.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
                var content = Encoding.UTF8.GetBytes(reply.Body);
                var head = $"HTTP/1.1 {reply.Status} {((HttpStatusCode)reply.Status)}\r\n{headers}Content-Type: application/json\r\nContent-Length: {content.Length}\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
                await stream.WriteAsync(content, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException) { }
        finally { client.Dispose(); }
    }

    private async Task<string> ReadAsync(StreamReader reader, int count)
    {
        var buffer = new char[count];
        int read = 0;
        while (read < count)
        {
            int n = await reader.ReadAsync(buffer.AsMemory(read, count - read), _stop.Token);
            if (n == 0) break;
            read += n;
        }
        return new string(buffer, 0, read);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
    }
}
