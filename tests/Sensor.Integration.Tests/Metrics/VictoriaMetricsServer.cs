using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Sensor.Integration.Tests.Live;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>
/// A real VictoriaMetrics (Debian's victoria-metrics) on 127.0.0.1, which accepts InfluxDB.Client's
/// /api/v2/write. Started with a century of retention because capture timestamps can be years old
/// (or with another, to show what its default does to them); stopped and restarted by PID on the
/// same data directory to simulate an outage.
/// </summary>
public sealed class VictoriaMetricsServer : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("sensor-vm-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _retention;
    private ExternalProcess? _process;

    public VictoriaMetricsServer(string retention = "100y")
    {
        _retention = retention;
        Port = FreePort();
        LogMark = LogCapture.Mark();
        Start();
    }

    /// <summary>Where the log lines logged since this server chose its port start (another test may have had the port before).</summary>
    public int LogMark { get; }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    public void Start()
    {
        _process = new ExternalProcess("victoria-metrics",
            [$"-httpListenAddr=127.0.0.1:{Port}", $"-storageDataPath={_dataDir}", $"-retentionPeriod={_retention}", "-loggerLevel=ERROR"]);
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            try
            {
                if (_http.GetAsync(Url + "/health").Result.StatusCode == HttpStatusCode.OK) return;
            }
            catch (AggregateException) { }
            if (_process.HasExited) break;
            Thread.Sleep(50);
        }
        throw new InvalidOperationException("victoria-metrics did not start: " + _process.StdErr);
    }

    public void Stop()
    {
        _process?.Signal(Posix.SigTerm, TimeSpan.FromSeconds(15));
        _process?.Dispose();
        _process = null;
    }

    /// <summary>The sum of all samples of a metric (InfluxDB field count=1 becomes metric mail_auth_count).</summary>
    public long Sum(string metric, string? labelFilter = null) => Export(metric, labelFilter).Sum;

    /// <summary>How many samples a metric has.</summary>
    public long Samples(string metric, string? labelFilter = null) => Export(metric, labelFilter).Count;

    private (long Sum, long Count) Export(string metric, string? labelFilter)
    {
        _http.GetAsync(Url + "/internal/force_flush").Result.EnsureSuccessStatusCode();
        var selector = labelFilter is null ? $"{{__name__=\"{metric}\"}}" : $"{{__name__=\"{metric}\",{labelFilter}}}";
        var body = new FormUrlEncodedContent([new KeyValuePair<string, string>("match[]", selector)]);
        var text = _http.PostAsync(Url + "/api/v1/export", body).Result.Content.ReadAsStringAsync().Result;
        long sum = 0, count = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var v in doc.RootElement.GetProperty("values").EnumerateArray()) { sum += (long)v.GetDouble(); count++; }
        }
        return (sum, count);
    }

    /// <summary>Waits until the sum reaches <paramref name="expected"/> (or the timeout), then returns it.</summary>
    public long WaitForSum(string metric, long expected, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        long sum;
        while ((sum = Sum(metric)) < expected && DateTime.UtcNow < until) Thread.Sleep(200);
        return sum;
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        Stop();
        _http.Dispose();
        try { Directory.Delete(_dataDir, true); } catch (IOException) { }
    }
}
