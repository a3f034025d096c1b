namespace Sensor.Core.Tests.Support;

public static class Endpoints
{
    public static IpEndpoint At(string address, ushort port) => IpEndpoint.Parse(address, port);

    public static readonly IpEndpoint Client = At("10.0.0.1", 40000);
    public static readonly IpEndpoint ImapServer = At("10.0.0.2", 143);
    public static readonly IpEndpoint Pop3Server = At("10.0.0.2", 110);
    public static readonly IpEndpoint SmtpServer = At("10.0.0.2", 587);
}
