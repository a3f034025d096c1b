using System.Diagnostics;
using System.Globalization;

namespace Sensor.CaptureGenerator;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (!Options.TryParse(args, out var o, out var error))
        {
            if (!string.IsNullOrEmpty(error)) Console.Error.WriteLine($"capture-gen: {error}");
            Console.Error.WriteLine(Options.Usage);
            return error == "" ? 0 : 2;
        }
        var sw = Stopwatch.StartNew();
        try
        {
            var (tally, packets, bytes, fileBytes) = Generator.Run(o);
            tally.WriteJson(o.ExpectedPath, o, packets, bytes);
            double s = Math.Max(sw.Elapsed.TotalSeconds, 1e-6);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"capture-gen: {o.Out}: {tally.MailSessions} mail sessions ({tally.ImapSessions} IMAP, {tally.Pop3Sessions} POP3), " +
                $"{tally.NoiseFlows} noise flows, {tally.AuthEvents} logins, {tally.StartTlsEvents} STARTTLS ({tally.StartTlsSuccess} ok), " +
                $"{packets} packets, {fileBytes / 1e6:F1} MB in {s:F2} s ({fileBytes / 1e6 / s:F0} MB/s); expected counts in {o.ExpectedPath}"));
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"capture-gen: {e.Message}");
            return 1;
        }
    }
}
