using Sensor.Core.Guessing;
using static Sensor.Core.Tests.Smtp.SmtpSessionTests;

namespace Sensor.Core.Tests.Smtp;

/// <summary>The password-guessing detector sees SMTP AUTH failures like any other.</summary>
public sealed class SmtpGuessingTests
{
    [Fact]
    public void TenRefusedSmtpLoginsFromOneClientRaiseAGuessingAlertForSmtp()
    {
        var h = MailHarness.Revealing(false);
        for (int i = 0; i < 10; i++)
        {
            var c = h.Connect(Endpoints.At("10.0.0.1", (ushort)(40000 + i)), Endpoints.SmtpServer, clientIsn: (uint)(1000 + i * 100_000));
            c.ServerSends("220 mx ESMTP\r\n");
            c.ClientSends("EHLO x\r\n");
            c.ServerSends("250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
            c.ClientSends($"AUTH PLAIN {B64($"\0alice\0guess{i}")}\r\n");
            c.ServerSends("535 5.7.8 Error: authentication failed\r\n");
            c.FinBoth();
        }
        h.Finish();

        var sink = new CollectingSink();
        var detector = new PasswordGuessingDetector(sink, new GuessingThresholds());
        foreach (var e in h.Sink.Events) detector.Emit(e);
        var alert = Assert.Single(sink.Events.OfType<PasswordGuessing>());
        Assert.Equal(AppProtocol.Smtp, alert.Protocol);
        Assert.Equal(10, alert.Failures);
        Assert.Equal(10, sink.Auths.Count(a => a.Protocol == AppProtocol.Smtp && a.Outcome == AuthOutcome.Failure));
    }
}
