using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// Why no answer came, in a few words for the log ("connection refused", "name not resolved").
/// Exception messages are not used as they are: they can span lines, and some repeat the address.
/// </summary>
public static class TransportFailure
{
    public static string Describe(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case SocketException s:
                    return s.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "name not resolved",
                        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.NetworkDown => "network unreachable",
                        SocketError.TimedOut => "connection timed out",
                        SocketError.ConnectionReset or SocketError.ConnectionAborted => "connection reset",
                        _ => "socket error " + s.SocketErrorCode,
                    };
                case AuthenticationException:
                    return "TLS handshake failed: " + InfluxAnswer.OneLine(x.Message);
                case HttpRequestException { HttpRequestError: var kind } when kind != HttpRequestError.Unknown && x.InnerException is not SocketException:
                    return kind switch
                    {
                        HttpRequestError.NameResolutionError => "name not resolved",
                        HttpRequestError.ConnectionError => "connection failed",
                        HttpRequestError.SecureConnectionError => "TLS handshake failed",
                        HttpRequestError.ResponseEnded => "connection closed before an answer",
                        HttpRequestError.InvalidResponse => "not an HTTP answer",
                        HttpRequestError.ProxyTunnelError => "proxy tunnel failed",
                        _ => InfluxAnswer.OneLine(x.Message),
                    };
                case WebException { Status: var status } when status != WebExceptionStatus.UnknownError:
                    return "network error " + status;
            }
        }
        return InfluxAnswer.OneLine(e.Message);
    }
}
