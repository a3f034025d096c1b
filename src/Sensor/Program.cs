using System.CommandLine;
using Sensor.Commands;
using Sensor.Core.Health;
using Serilog;
using Serilog.Events;

namespace Sensor;

public static class Program
{
    public static int Main(string[] args)
    {
        var stdout = new GuardedConsoleWriter(Console.Out);
        Console.SetOut(stdout);
        Console.SetError(new GuardedConsoleWriter(Console.Error)); // nowhere to say it fails: the exit code stands
        // Diagnostics go to stderr, always: stdout belongs to the findings (and is pure JSON with --json).
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .Enrich.With<Sensor.Outputs.Diagnostics.ControlCharacterEscaper>()
            .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose,
                outputTemplate: "sensor: {Level:w}: {Message:lj}{NewLine}{Exception}")
            .CreateLogger();
        AnalyzerFaultLog.Use((flowId, where) =>
            Log.Warning("analyzer fault in connection {FlowId} ({Where}): that connection is no longer analysed", flowId, where));
        try
        {
            var root = new RootCommand("Passive sensor for cleartext and weak POP3/IMAP logins.")
            {
                ReadCommand.Create(),
                RunCommand.Create(),
                InterfacesCommand.Create(),
            };
            if (args.Length == 0)
            {
                root.Parse("--help").Invoke();
                return ExitCodes.Usage;
            }
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                // One line: the first error (the others usually follow from it) and where help is.
                Console.Error.WriteLine($"sensor: {parse.Errors[0].Message} (see 'sensor --help')");
                return ExitCodes.Usage;
            }
            try
            {
                // Not System.CommandLine's handler: it prints the exception and exits 1, the code
                // of "no input could be read", which a script would take for bad input.
                int exit = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
                stdout.Flush();
                if (stdout.Failure is { } failure && exit == ExitCodes.Ok)
                {
                    Console.Error.WriteLine($"sensor: cannot write to standard output: {failure}");
                    exit = ExitCodes.OutputFailed;
                }
                return exit;
            }
            catch (Exception e)
            {
                Log.Fatal(e, "internal error: please report this, with the stack trace below");
                return ExitCodes.InternalError;
            }
        }
        finally
        {
            Log.CloseAndFlush();
        }
    }
}
