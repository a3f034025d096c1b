using static Sensor.Core.Tests.Smtp.SmtpSessionTests;

namespace Sensor.Core.Tests.Smtp;

/// <summary>Which connections are SMTP: by port (25, 587, configurable) or by content on any port.</summary>
public sealed class SmtpDetectionTests
{
    private static readonly AnalysisOptions Reveal = new() { RevealSecrets = true };

    private static MailHarness LoginOn(IpEndpoint client, IpEndpoint server, string greeting, bool handshake = true, AnalysisOptions? options = null)
    {
        var h = new MailHarness(options ?? Reveal);
        var c = h.Connect(client, server, handshake);
        c.ServerSends(greeting);
        c.ClientSends("EHLO x\r\n");
        c.ServerSends("250-mx\r\n250 AUTH PLAIN\r\n");
        c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
        c.ServerSends("235 ok\r\n");
        c.FinBoth();
        h.Finish();
        return h;
    }

    [Theory]
    [InlineData(25)]
    [InlineData(587)]
    [InlineData(2525)]
    [InlineData(8025)]
    public void SmtpIsDetectedByItsGreetingOnAnyPort(int port)
    {
        var server = Endpoints.At("10.0.0.2", (ushort)port);
        var h = LoginOn(Endpoints.Client, server, "220 mx.example.org ESMTP Exim 4.96 Mon, 01 Jan 2024 00:00:00 +0000\r\n");
        var e = Conversation.SingleAuth(h);
        Assert.Equal(AppProtocol.Smtp, e.Protocol);
        Assert.Equal(server, e.Server);
        Assert.Equal(1, h.Counters.FlowsSmtp);
    }

    [Fact]
    public void AGreetingWithoutTheWordSmtpIsSmtpOnlyOnAnSmtpPort()
    {
        const string greeting = "220 mx.example.org Service ready\r\n";
        Assert.Equal(AppProtocol.Smtp, Conversation.SingleAuth(LoginOn(Endpoints.Client, Endpoints.At("10.0.0.2", 25), greeting)).Protocol);
        var elsewhere = LoginOn(Endpoints.Client, Endpoints.At("10.0.0.2", 2525), greeting);
        Assert.Empty(elsewhere.Sink.Auths);
        Assert.Equal(1, elsewhere.Counters.FlowsNotMail);
    }

    [Fact]
    public void AnFtpGreetingIsNotMail()
    {
        var h = new MailHarness(Reveal);
        var c = h.Connect(Endpoints.Client, Endpoints.At("10.0.0.2", 21));
        c.ServerSends("220 ProFTPD Server (Debian) [10.0.0.2]\r\n");
        c.ClientSends("USER alice\r\n");
        c.ServerSends("331 Password required for alice\r\n");
        c.ClientSends("PASS secret\r\n");
        c.ServerSends("230 User alice logged in\r\n");
        c.FinBoth();
        h.Finish();
        Assert.Empty(h.Sink.Auths);
        Assert.Equal(0, h.Counters.FlowsSmtp);
    }

    [Fact]
    public void ConfiguredSmtpPortsReplaceTheDefaults()
    {
        var options = new AnalysisOptions { RevealSecrets = true, SmtpPorts = [2587] };
        const string greeting = "220 mx.example.org Service ready\r\n";
        Assert.Single(LoginOn(Endpoints.Client, Endpoints.At("10.0.0.2", 2587), greeting, options: options).Sink.Auths);
        Assert.Empty(LoginOn(Endpoints.Client, Endpoints.At("10.0.0.2", 587), greeting, options: options).Sink.Auths);
    }

    [Fact]
    public void RolesAreSwappedWhenWithoutAHandshakeTheHigherPortGreetsFirst()
    {
        var client = Endpoints.At("10.0.0.1", 1025);
        var server = Endpoints.At("10.0.0.2", 50025);
        var h = LoginOn(client, server, "220 mx.example.org ESMTP Postfix\r\n", handshake: false);
        var e = Conversation.SingleAuth(h);
        Assert.Equal(server, e.Server);
        Assert.Equal(client, e.Client);
        Assert.Equal(AppProtocol.Smtp, e.Protocol);
    }

    [Fact]
    public void EhloFromTheClientIsSmtpEvenWhenTheGreetingWasLost()
    {
        var h = new MailHarness(Reveal);
        var server = Endpoints.At("10.0.0.2", 2525);
        var c = h.Connect(Endpoints.Client, server);
        c.ServerLoses("220 mx ESMTP\r\n");
        c.ClientSends("EHLO x\r\n");
        c.ServerSends("250-mx\r\n250 AUTH PLAIN\r\n");
        c.ClientSends($"AUTH PLAIN {B64("\0alice\0wonderland")}\r\n");
        c.ServerSends("235 ok\r\n");
        c.FinBoth();
        h.Finish();
        Assert.Equal(1, h.Counters.FlowsSmtp);
        Assert.All(h.Sink.Auths, a => Assert.Equal(AppProtocol.Smtp, a.Protocol));
    }
}
