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
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args) => Run(environment, null, args);

    /// <summary>Runs it with <paramref name="stdin"/> as its standard input (then closed).</summary>
    public static Result RunWithInput(byte[] stdin, params string[] args) => Run(new Dictionary<string, string>(), stdin, args);

    private static Result Run(IReadOnlyDictionary<string, string> environment, byte[]? stdin, string[] args)
    {
        var psi = new ProcessStartInfo(RepoPaths.SensorExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            // On its own thread: a large input must not block on a full pipe while output piles up.
            var feeding = new Thread(() =>
            {
                try
                {
                    p.StandardInput.BaseStream.Write(stdin);
                    p.StandardInput.Close();
                }
                catch (IOException) { } // the sensor stopped reading: what it says is the result
            });
            feeding.Start();
        }
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("sensor did not finish: " + string.Join(' ', args));
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
