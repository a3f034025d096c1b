using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Outputs.EventLog;

namespace Sensor.Integration.Tests;

/// <summary>The readable output keeps each finding on one line whatever the wire carried (found by fuzzing).</summary>
public sealed class TextOutputTests
{
    private static AuthAttempt Login(string? user, string? secret = null, string mechanism = "LOGIN") => new()
    {
        TimestampNs = 1_735_812_000_000_000_000L,
        FlowId = "0000000000000000",
        Client = IpEndpoint.Parse("10.0.0.1", 40000),
        Server = IpEndpoint.Parse("10.0.0.2", 143),
        Protocol = AppProtocol.Imap,
        Mechanism = mechanism,
        Username = user,
        Secret = secret,
        Exposure = CredentialExposure.Cleartext,
        Outcome = AuthOutcome.Failure,
    };

    [Fact]
    public void AUsernameWithALineBreakCannotForgeASecondFinding()
    {
        var line = TextEventFormatter.Format(Login("alice\r\n2025-01-02T10:00:00.000000Z  IMAP  login  LOGIN  cleartext  success  user=admin"));
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Contains("user=\"alice\\r\\n2025-01-02T10:00:00.000000Z  IMAP", line);
    }

    [Fact]
    public void ControlCharactersInUsernamesSecretsAndMechanismsAreEscaped()
    {
        var line = TextEventFormatter.Format(Login("a\u001b[2Jb\u0000\u007f\u0085", secret: "p\tw\"d\\", mechanism: "AUTH=X\u0007"));
        Assert.DoesNotContain(line, char.IsControl);
        Assert.Contains("user=\"a\\x1b[2Jb\\x00\\x7f\\x85\"", line);
        Assert.Contains("secret=\"p\\tw\\\"d\\\\\"", line);
        Assert.Contains("\"AUTH=X\\x07\"", line);
    }

    [Fact]
    public void PlainUsernamesAreWrittenAsTheyAre()
    {
        var line = TextEventFormatter.Format(Login("DOMAIN\\alice@example.com"));
        Assert.Contains("user=DOMAIN\\alice@example.com ", line);
        Assert.Contains("secret=[redacted]", line);
    }
}
