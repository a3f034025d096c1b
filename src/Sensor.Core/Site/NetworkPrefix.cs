using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sensor.Core.Flows;

namespace Sensor.Core.Site;

/// <summary>
/// One CIDR block (RFC 4632 for IPv4, RFC 4291 §2.3 for IPv6) in the sensor's one address space:
/// IPv4 as IPv4-mapped IPv6 (see <see cref="IpEndpoint"/>), so 10.0.0.0/8 is ::ffff:10.0.0.0/104 and
/// matches IPv4 traffic only, while ::/0 matches everything.
/// </summary>
public readonly record struct NetworkPrefix(UInt128 Network, int Length)
{
    public static UInt128 MaskOf(int length) => length == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - length);

    public bool Contains(UInt128 address) => (address & MaskOf(Length)) == Network;

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit));
    }

    /// <summary>"10.0.0.0/8", "2001:db8::/32", or a bare address (a host: /32 or /128).</summary>
    /// <param name="problem">Why the text is not a prefix, as part of a sentence; null on success.</param>
    public static bool TryParse(string text, out NetworkPrefix prefix, out string? problem)
    {
        prefix = default;
        var s = text.Trim();
        int slash = s.IndexOf('/');
        var addressText = slash < 0 ? s : s[..slash];
        // IPAddress.TryParse also takes "5" (0.0.0.5) and "10.1" (10.0.0.1), old inet_aton forms that in a
        // config are typing mistakes: an IPv4 address here is four dotted decimal numbers.
        if (!IPAddress.TryParse(addressText, out var ip) || addressText.Contains('%') || (!addressText.Contains(':') && !IsDottedQuad(addressText)))
        {
            problem = $"'{Shown(text)}' is not an address or CIDR prefix";
            return false;
        }
        bool v4 = ip.AddressFamily == AddressFamily.InterNetwork;
        int max = v4 ? 32 : 128;
        int length = max;
        if (slash >= 0 && (!int.TryParse(s.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
        {
            problem = $"'{Shown(text)}' has a prefix length that is not 0 to {max}";
            return false;
        }
        var bytes = ip.GetAddressBytes();
        UInt128 address = v4 ? IpEndpoint.FromIPv4(bytes) : IpEndpoint.FromIPv6(bytes);
        int mapped = v4 ? 96 + length : length;
        var network = address & MaskOf(mapped);
        if (network != address)
        {
            // Host bits set (10.1.2.3/8): most likely a typo for a host or a different length; refusing it
            // beats guessing which was meant.
            problem = $"'{Shown(text)}' has bits set beyond its prefix length (did you mean {Format(network, mapped, v4)}?)";
            return false;
        }
        prefix = new NetworkPrefix(network, mapped);
        problem = null;
        return true;
    }

    /// <summary>The entry as the user wrote it, control characters as '?': the error stays one line.</summary>
    private static string Shown(string text) => string.Create(text.Length, text, (span, t) =>
    {
        for (int i = 0; i < t.Length; i++) span[i] = char.IsControl(t[i]) ? '?' : t[i];
    });

    private static string Format(UInt128 network, int mappedLength, bool v4) =>
        $"{new IpEndpoint(network, 0).AddressText}/{(v4 ? mappedLength - 96 : mappedLength)}";

    public override string ToString() => Format(Network, Length, new IpEndpoint(Network, 0).IsV4 && Length >= 96);
}
