using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Sensor.Integration.Tests.Grafana;

/// <summary>
/// Debian's InfluxDB 1.x (`influxd`, package influxdb) on 127.0.0.1 only: a config file in a temp
/// folder that holds all its data, HTTP on a free loopback port, the RPC service on another loopback
/// port, usage reporting off (upstream's key is reporting-disabled, Debian's build reads
/// reporting-enabled; each ignores the other's), no other listener. Stopped by PID (SIGTERM, then kill) on Dispose.
/// With authentication ([http] auth-enabled), one admin user <see cref="User"/>:<see cref="Password"/>
/// is made through /query as 1.x allows while no user exists, and this helper's own requests use it.
/// </summary>
public sealed class InfluxDbServer : IDisposable
{
    public const string User = "sensor-admin";
    public const string Password = "Adm1n-pw-7q";

    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-influxdb-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    /// <summary>Without authentication (xunit's class fixtures need this one public constructor).</summary>
    public InfluxDbServer() : this(authenticated: false) { }

    /// <summary>With [http] auth-enabled and the admin user <see cref="User"/>.</summary>
    public static InfluxDbServer WithAuthentication() => new(authenticated: true);

    private InfluxDbServer(bool authenticated)
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
              auth-enabled = {(authenticated ? "true" : "false")}
              log-enabled = false

            [logging]
              level = "warn"
              suppress-logo = true
            """);

        var start = new ProcessStartInfo(influxd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-config");
        start.ArgumentList.Add(config);
        _process = Process.Start(start) ?? throw new InvalidOperationException("influxd did not start");
        _process.OutputDataReceived += (_, e) => Log(e.Data);
        _process.ErrorDataReceived += (_, e) => Log(e.Data);
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
                var why = _process.HasExited ? $"exited with {_process.ExitCode}" : "did not answer /ping in 30 s";
                Dispose();
                throw new InvalidOperationException($"influxd {why}: {Output}");
            }
            Thread.Sleep(50);
        }
        if (authenticated)
        {
            Execute($"CREATE USER \"{User}\" WITH PASSWORD '{Password}' WITH ALL PRIVILEGES");
            _http.DefaultRequestHeaders.Authorization =
                new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        }
    }

    public string Url { get; }

    /// <summary>The sum of field "count" of a measurement, 0 when there is none (or no database).</summary>
    public long SumOfCount(string database, string measurement)
    {
        using var doc = Query(database, $"SELECT sum(\"count\") FROM \"{measurement}\"");
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series)) return 0;
        return series[0].GetProperty("values")[0][1].GetInt64();
    }

    public string Output { get { lock (_log) return _log.ToString(); } }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_log) if (_log.Length < 64 * 1024) _log.AppendLine(line);
    }

    /// <summary>An InfluxQL statement through POST /query (for CREATE DATABASE and the like).</summary>
    public void Execute(string statement)
    {
        var body = new FormUrlEncodedContent([KeyValuePair.Create("q", statement)]);
        using var response = _http.PostAsync(Url + "/query", body).Result;
        var text = response.Content.ReadAsStringAsync().Result;
        if (!response.IsSuccessStatusCode || text.Contains("\"error\"")) throw new InvalidOperationException($"{statement}: {(int)response.StatusCode} {text}");
    }

    /// <summary>Line protocol with nanosecond timestamps, POST /write?db=…&amp;precision=ns.</summary>
    public void Write(string database, IEnumerable<string> lines)
    {
        using var content = new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, "text/plain");
        using var response = _http.PostAsync($"{Url}/write?db={Uri.EscapeDataString(database)}&precision=ns", content).Result;
        if (response.StatusCode != HttpStatusCode.NoContent)
            throw new InvalidOperationException($"write: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().Result}");
    }

    /// <summary>A query through GET /query as Grafana sends it (epoch=ms); the raw JSON answer.</summary>
    public JsonDocument Query(string database, string query)
    {
        var url = $"{Url}/query?db={Uri.EscapeDataString(database)}&epoch=ms&q={Uri.EscapeDataString(query)}";
        using var response = _http.GetAsync(url).Result;
        var text = response.Content.ReadAsStringAsync().Result;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{query}\n→ {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text);
    }

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
