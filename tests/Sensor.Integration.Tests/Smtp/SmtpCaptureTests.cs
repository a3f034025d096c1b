namespace Sensor.Integration.Tests.Smtp;

/// <summary>`sensor read` over the recorded Postfix captures: the summary counts SMTP and what was skipped unread.</summary>
public sealed class SmtpCaptureTests
{
    private static string Capture(string name) => Path.Combine(RepoPaths.Pcaps, "smtp", name + ".pcap");

    [Fact]
    public void TrapsInDataAndBdatBodiesAreSkippedUnreadAndCounted()
    {
        var run = SensorProcess.Run("read", "--json", Capture("smtp-socket-traps"));
        Assert.Equal(0, run.ExitCode);
        var line = Assert.Single(run.StdOutLines, l => l.Contains("\"event_type\":\"auth\"", StringComparison.Ordinal));
        Assert.Contains("\"app_proto\":\"smtp\"", line);
        Assert.Contains("\"mechanism\":\"AUTH=PLAIN\"", line);
        Assert.Contains("SMTP sessions: 1", run.StdErr);
        // One DATA body and two BDAT chunks.
        Assert.Contains("SMTP message bodies 3 (", run.StdErr);
    }

    [Fact]
    public void TheSummaryNamesTheServerThatOffersAuthBeforeStartTls()
    {
        var run = SensorProcess.Run("read", "--json", Capture("smtp-swaks-auth-plain"), Capture("smtp-tls-auth-only-login-refused"));
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("SMTP servers offering AUTH before STARTTLS: 1", run.StdErr);
        Assert.Contains("smtp 127.0.0.1:2525", run.StdErr);
        Assert.DoesNotContain("smtp 127.0.0.1:2587", run.StdErr);
    }
}
