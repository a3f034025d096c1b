using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// Debian's InfluxDB 1.6 (`influxd`) on 127.0.0.1 with authentication on ([http] auth-enabled) and
/// one admin user, <see cref="User"/>:<see cref="Password"/>, made through /query as 1.x allows while
/// no user exists. Otherwise like Grafana/InfluxDbServer: a temp folder holds config and data, the
/// RPC service on another loopback port, usage reporting off; stopped by PID on Dispose.
/// </summary>
public sealed class AuthenticatingInfluxDbServer : IDisposable
{
    public const string User = "sensor-admin";
    public const string Password = "Adm1n-pw-7q";

    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-influxdb-auth-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public AuthenticatingInfluxDbServer()
    {
        var influxd = new[] { "/usr/bin/influxd", "/usr/sbin/influxd", "/usr/local/bin/influxd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("influxd is not installed: run scripts/install-deps.sh test (apt-get install -y influxdb)");
        int httpPort = FreePort(), rpcPort = FreePort();
        while (rpcPort == httpPort) rpcPort = FreePort();
        Url = $"http://127.0.0.1:{httpPort}";
        var config = Path.Combine(_dir, "influxdb.conf");
        File.WriteAllText(config, $"""
            reporting-disabled = true
            reporting-enabled = false
            bind-address = "127.0.0.1:{rpcPort}"

            [meta]
              dir = "{_dir}/meta"

            [data]
              dir = "{_dir}/data"
              wal-dir = "{_dir}/wal"
              query-log-enabled = false

            [monitor]
              store-enabled = false

            [http]
              enabled = true
              bind-address = "127.0.0.1:{httpPort}"
              auth-enabled = true
              log-enabled = false

            [logging]
              level = "warn"
              suppress-logo = true
            """);
        var start = new ProcessStartInfo(influxd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-config");
        start.ArgumentList.Add(config);
        _process = Process.Start(start) ?? throw new InvalidOperationException("influxd did not start");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) if (_log.Length < 65536) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) if (_log.Length < 65536) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                if (_http.GetAsync(Url + "/ping").Result.StatusCode == HttpStatusCode.NoContent) break;
            }
            catch (AggregateException) { }
            if (_process.HasExited || DateTime.UtcNow > until)
            {
                Dispose();
                string log;
                lock (_log) log = _log.ToString();
                throw new InvalidOperationException("influxd did not start: " + log);
            }
            Thread.Sleep(50);
        }
        Post($"CREATE USER \"{User}\" WITH PASSWORD '{Password}' WITH ALL PRIVILEGES", authenticate: false);
    }

    public string Url { get; }

    /// <summary>The sum of field "count" of a measurement, 0 when there is none (or no database).</summary>
    public long SumOfCount(string database, string measurement)
    {
        var url = $"{Url}/query?db={Uri.EscapeDataString(database)}&q={Uri.EscapeDataString($"SELECT sum(\"count\") FROM \"{measurement}\"")}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = Basic();
        using var response = _http.Send(request);
        using var doc = JsonDocument.Parse(response.Content.ReadAsStringAsync().Result);
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series)) return 0;
        return series[0].GetProperty("values")[0][1].GetInt64();
    }

    private void Post(string statement, bool authenticate)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url + "/query")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("q", statement)]),
        };
        if (authenticate) request.Headers.Authorization = Basic();
        using var response = _http.Send(request);
        var text = response.Content.ReadAsStringAsync().Result;
        if (!response.IsSuccessStatusCode || text.Contains("\"error\"")) throw new InvalidOperationException($"{statement}: {(int)response.StatusCode} {text}");
    }

    private static AuthenticationHeaderValue Basic() => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                kill(_process.Id, 15); // SIGTERM to this PID only
                if (!_process.WaitForExit(10_000)) _process.Kill();
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _http.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
