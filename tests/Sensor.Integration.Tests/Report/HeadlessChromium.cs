using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Sensor.Integration.Tests.Report;

/// <summary>
/// A real headless Chromium (Debian's `chromium`, installed by scripts/install-deps.sh test) driven
/// over its DevTools protocol: open a page, evaluate script in it, click with the mouse, take a
/// screenshot. The protocol listens on loopback only and the browser is started with its background
/// networking off, so a test page is the only thing it loads. Stopped by its process id on dispose.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly List<string> _requests = new();
    private int _nextId;

    public HeadlessChromium()
    {
        _profile = Directory.CreateTempSubdirectory("sensor-chromium-").FullName;
        var psi = new ProcessStartInfo("chromium")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
                     "--hide-scrollbars", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                     $"--user-data-dir={_profile}", "about:blank"])
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start chromium");
        _process.ErrorDataReceived += (_, _) => { }; // drained: a full pipe would stall the browser
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        try
        {
            // Chromium writes the port it chose (and the browser's path) here once it listens.
            var portFile = Path.Combine(_profile, "DevToolsActivePort");
            var until = DateTime.UtcNow + Timeout;
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
            {
                if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode} before listening");
                if (DateTime.UtcNow > until) throw new TimeoutException("chromium did not start its DevTools endpoint");
                Thread.Sleep(50);
            }
            int port = int.Parse(File.ReadAllLines(portFile)[0]);
            using var http = new HttpClient { Timeout = Timeout };
            var targets = JsonNode.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/json/list").GetAwaiter().GetResult())!.AsArray();
            var page = targets.First(t => (string?)t!["type"] == "page")!;
            _socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None).GetAwaiter().GetResult();
            Send("Network.enable");
            Send("Page.enable");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Every URL the page asked for since it was opened (the page's own file included).</summary>
    public IReadOnlyList<string> Requests => _requests;

    /// <summary>Opens a file and waits until it is loaded and its script has run (or the timeout).</summary>
    public void Open(string file, int width = 1280)
    {
        _requests.Clear();
        Send("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = false });
        Send("Page.navigate", new JsonObject { ["url"] = new Uri(Path.GetFullPath(file)).AbsoluteUri });
        var until = DateTime.UtcNow + Timeout;
        while ((string?)Evaluate("document.readyState") != "complete")
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"{file} did not finish loading");
            Thread.Sleep(50);
        }
    }

    /// <summary>The value of a script expression in the page (returned by value, as JSON).</summary>
    public JsonNode? Evaluate(string expression)
    {
        var result = Send("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result["exceptionDetails"] is { } failure) throw new InvalidOperationException($"script failed: {failure.ToJsonString()}");
        return result["result"]!["value"]?.DeepClone();
    }

    /// <summary>A left click with the mouse at page coordinates (CSS pixels of the viewport).</summary>
    public void Click(double x, double y)
    {
        foreach (var type in (string[])["mouseMoved", "mousePressed", "mouseReleased"])
            Send("Input.dispatchMouseEvent", new JsonObject
            {
                ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = type == "mouseMoved" ? "none" : "left", ["clickCount"] = 1,
            });
    }

    /// <summary>Scrolls the element into view and clicks its centre.</summary>
    public void ClickOn(string selector)
    {
        var box = Evaluate($"(() => {{ const e = document.querySelector({JsonValue.Create(selector).ToJsonString()}); e.scrollIntoView({{block: 'center'}}); " +
                           "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")!.AsArray();
        Click((double)box[0]!, (double)box[1]!);
    }

    /// <summary>A PNG of the whole page, not only the viewport.</summary>
    public byte[] Screenshot()
    {
        var result = Send("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        return Convert.FromBase64String((string)result["data"]!);
    }

    private JsonObject Send(string method, JsonObject? parameters = null)
    {
        int id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        using var cts = new CancellationTokenSource(Timeout);
        _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cts.Token).GetAwaiter().GetResult();
        while (true)
        {
            var reply = Receive(cts.Token);
            if ((string?)reply["method"] == "Network.requestWillBeSent") _requests.Add((string)reply["params"]!["request"]!["url"]!);
            if ((int?)reply["id"] != id) continue; // an event, or the answer to nothing we wait for
            if (reply["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
            return reply["result"]!.AsObject();
        }
    }

    private JsonObject Receive(CancellationToken cancel)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var r = _socket.ReceiveAsync(buffer, cancel).GetAwaiter().GetResult();
            if (r.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("chromium closed the DevTools connection");
            message.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) return JsonNode.Parse(message.ToArray())!.AsObject();
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { }
    }
}
