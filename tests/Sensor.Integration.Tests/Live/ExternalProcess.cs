using System.Diagnostics;
using System.Text;

namespace Sensor.Integration.Tests.Live;

/// <summary>A process the test started, with its output collected as it comes; stopped by its own PID.</summary>
public sealed class ExternalProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public ExternalProcess(string file, IEnumerable<string> args, string? workDir = null, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string StdOut { get { lock (_stdout) return _stdout.ToString(); } }
    public string StdErr { get { lock (_stderr) return _stderr.ToString(); } }

    public bool WaitForStdErr(string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (StdErr.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return StdErr.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Sends SIGTERM (or SIGINT) to this process only and waits for it to end.</summary>
    public bool Signal(int signal, TimeSpan timeout)
    {
        if (!_process.HasExited) Posix.Kill(_process.Id, signal);
        return WaitForExit(timeout);
    }

    /// <summary>
    /// Waits for the process to end, then for its last output lines: WaitForExit with a timeout does
    /// not wait for the asynchronous readers, and on a loaded machine the final log line came later.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Posix.Kill(_process.Id, Posix.SigTerm);
            if (!_process.WaitForExit(5000)) _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }

    /// <summary>Runs a command to completion and returns its exit code and output.</summary>
    public static (int Code, string Out, string Err) RunToEnd(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        using var p = new ExternalProcess(file, args);
        if (!p._process.WaitForExit(timeout))
        {
            p._process.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        p._process.WaitForExit();
        return (p.ExitCode, p.StdOut, p.StdErr);
    }
}

internal static class Posix
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int sig);
}
