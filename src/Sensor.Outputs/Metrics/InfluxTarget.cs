using System.Security.Cryptography;
using System.Text;

namespace Sensor.Outputs.Metrics;

/// <summary>
/// The server and bucket points go to, in the form the sensor prints and hashes: the address without
/// its user-info (credentials may sit there), lower-case host, explicit port, no trailing slash.
/// Two spellings of one server (http://Host/ and http://host:80) are one target.
/// </summary>
public sealed class InfluxTarget
{
    public InfluxTarget(string url, string bucket, string org)
    {
        // The value is not repeated in the message: it may hold credentials.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException("the InfluxDB address must be an http:// or https:// URL (the value is not repeated: it may hold credentials)");
        UserInfo = uri.UserInfo.Length > 0 ? Uri.UnescapeDataString(uri.UserInfo) : null;
        var path = uri.AbsolutePath.TrimEnd('/');
        Url = $"{uri.Scheme}://{uri.Host}:{uri.Port}{path}";
        BaseAddress = new Uri(Url + "/");
        Bucket = bucket;
        Org = org;
    }

    /// <summary>The address without credentials: safe to log.</summary>
    public string Url { get; }

    /// <summary><see cref="Url"/> with a trailing slash, for resolving write, query and ping.</summary>
    public Uri BaseAddress { get; }

    /// <summary>"user:password" from the address, unescaped; never logged.</summary>
    public string? UserInfo { get; }

    public string Bucket { get; }
    public string Org { get; }

    /// <summary>
    /// The name of this target's spool directory: host and port for people, and a hash of address,
    /// bucket and org so that points spooled for one target are never sent to another.
    /// </summary>
    public string SpoolName
    {
        get
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{Url}\n{Bucket}\n{Org}"));
            var host = new string(BaseAddress.Host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
            if (host.Length > 48) host = host[..48];
            return $"{host}-{BaseAddress.Port}-{Convert.ToHexStringLower(hash, 0, 6)}";
        }
    }
}
