using System.Diagnostics;

namespace Sensor.Integration.Tests;

/// <summary>Runs the real `sensor` executable and collects what it printed.</summary>
public static class SensorProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string[] StdOutLines => StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Result Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    /// <summary>Runs it with <paramref name="environment"/> added to this process's environment.</summary>
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(RepoPaths.SensorExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("sensor did not finish: " + string.Join(' ', args));
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
