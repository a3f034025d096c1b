using System.Text;
using Sensor.Core.Events;

namespace Sensor.Core.Sasl;

/// <summary>
/// Reads the identity (and, when asked, the secret) out of a finished SASL exchange, per mechanism.
/// Each rule cites the mechanism's specification.
/// </summary>
public static class SaslDecoder
{
    public static CredentialExposure ExposureOf(string mechanism) => mechanism switch
    {
        "PLAIN" or "LOGIN" or "XOAUTH2" or "OAUTHBEARER" or "XOAUTH" => CredentialExposure.Cleartext,
        "CRAM-MD5" or "DIGEST-MD5" or "NTLM" or "APOP" => CredentialExposure.Hashed,
        "EXTERNAL" or "ANONYMOUS" or "GSSAPI" or "GS2-KRB5" => CredentialExposure.None,
        _ when mechanism.StartsWith("SCRAM-", StringComparison.Ordinal) => CredentialExposure.Hashed,
        _ => CredentialExposure.Unknown,
    };

    /// <summary>
    /// Who authenticated and how exposed the secret was. Exposure says what crossed the wire: the
    /// mechanism's exposure only once the message that carries the secret (or its digest) was seen;
    /// <c>None</c> when the exchange ended before it (refused or cancelled first); <c>Unknown</c> when
    /// client bytes were lost and it may have crossed unseen.
    /// </summary>
    public static SaslCredentials Decode(SaslExchange x, bool revealSecrets)
    {
        var r = x.ClientResponses;
        string? user = null, secret = null;
        bool crossed = r.Count > 0; // unless the mechanism says which message carries the secret
        switch (x.Mechanism)
        {
            case "PLAIN":
                // message = [authzid] NUL authcid NUL passwd (RFC 4616 §2); "=" is an empty response.
                crossed = r.Count > 0 && r[0].Length > 0;
                if (r.Count > 0)
                {
                    var parts = Split(r[0], 0);
                    if (parts.Length == 3)
                    {
                        user = Utf8(parts[1]);
                        if (user.Length == 0) user = Utf8(parts[0]);
                        if (revealSecrets) secret = Utf8(parts[2]);
                    }
                }
                break;
            case "LOGIN":
                // draft-murchison-sasl-login: username, then password, each answering a challenge
                // (a client may send the username as the initial response). The messages say nothing
                // of what they are: after a loss their positions prove nothing, so no username.
                crossed = r.Count > 1;
                if (!x.Damaged)
                {
                    if (r.Count > 0) user = Utf8(r[0]);
                    if (r.Count > 1 && revealSecrets) secret = Utf8(r[1]);
                }
                break;
            case "XOAUTH2":
                // "user=" user ^A "auth=Bearer " token ^A ^A (Google's XOAUTH2 profile)
                if (r.Count > 0) ReadKeyValues(r[0], 1, ref user, ref secret, "user", revealSecrets);
                break;
            case "OAUTHBEARER":
                // gs2-header "n,a=user," then kvpairs separated by ^A (RFC 7628 §3.1)
                if (r.Count > 0)
                {
                    var msg = r[0];
                    int firstSoh = Array.IndexOf(msg, (byte)1);
                    var gs2 = Utf8(firstSoh < 0 ? msg : msg.AsSpan(0, firstSoh));
                    user = Gs2AuthzId(gs2);
                    if (firstSoh >= 0)
                    {
                        string? ignored = null;
                        ReadKeyValues(msg[(firstSoh + 1)..], 1, ref ignored, ref secret, "", revealSecrets);
                    }
                }
                break;
            case "CRAM-MD5":
                // response = user SP 32 hex digits (RFC 2195 §2)
                if (r.Count > 0)
                {
                    var s = Utf8(r[0]);
                    int sp = s.LastIndexOf(' ');
                    user = sp < 0 ? s : s[..sp];
                    if (revealSecrets && sp >= 0) secret = s[(sp + 1)..];
                }
                break;
            case "DIGEST-MD5":
                // digest-response directives username="..." and response=32LHEX (RFC 2831 §2.1.2)
                crossed = false;
                foreach (var msg in r)
                {
                    var s = Utf8(msg);
                    var u = Directive(s, "username");
                    if (u is null) continue;
                    user = u;
                    crossed = true;
                    if (revealSecrets) secret = Directive(s, "response");
                    break;
                }
                break;
            case "NTLM":
                // Only the AUTHENTICATE message (type 3) carries the NT response.
                crossed = false;
                foreach (var msg in r)
                {
                    crossed |= NtlmMessage.IsAuthenticate(msg);
                    if (NtlmMessage.TryReadAuthenticate(msg, out var domain, out var name, out var ntResponse))
                    {
                        user = string.IsNullOrEmpty(domain) ? name : domain + "\\" + name;
                        crossed = true;
                        if (revealSecrets) secret = Convert.ToHexStringLower(ntResponse);
                        break;
                    }
                }
                break;
            case "EXTERNAL":
                // the optional authorization identity (RFC 4422 Appendix A)
                if (r.Count > 0 && r[0].Length > 0) user = Utf8(r[0]);
                break;
            default:
                if (x.Mechanism.StartsWith("SCRAM-", StringComparison.Ordinal))
                {
                    // client-first-message = gs2-header "n=" saslname ",r=" nonce (RFC 5802 §7); only the
                    // client-final-message carries the proof (",p="). Each says what it is by its attributes.
                    crossed = false;
                    foreach (var msg in r)
                    {
                        var s = Utf8(msg);
                        user ??= Attribute(s, 'n');
                        if (Attribute(s, 'p') is { } proof)
                        {
                            crossed = true;
                            if (revealSecrets) secret = proof;
                        }
                    }
                }
                break;
        }
        if (string.IsNullOrEmpty(user)) user = null; // an empty message names no one
        var exposure = ExposureOf(x.Mechanism);
        if (exposure != CredentialExposure.None && !crossed)
        {
            // A message that could not be read (bad base64, past the bounds) or lost bytes may have carried it.
            exposure = x.Damaged || x.Malformed ? CredentialExposure.Unknown : CredentialExposure.None;
        }
        return new SaslCredentials(user, secret, exposure);
    }

    private static string Utf8(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

    private static byte[][] Split(byte[] msg, byte sep)
    {
        var parts = new List<byte[]>(3);
        int start = 0;
        for (int i = 0; i <= msg.Length; i++)
        {
            if (i == msg.Length || msg[i] == sep)
            {
                parts.Add(msg[start..i]);
                start = i + 1;
            }
        }
        return parts.ToArray();
    }

    /// <summary>Reads "key=value" pairs separated by <paramref name="sep"/>; the token is the "auth=Bearer x" value.</summary>
    private static void ReadKeyValues(byte[] msg, byte sep, ref string? user, ref string? secret, string userKey, bool reveal)
    {
        foreach (var part in Split(msg, sep))
        {
            var kv = Utf8(part);
            if (userKey.Length > 0 && kv.StartsWith(userKey + "=", StringComparison.Ordinal))
                user = kv[(userKey.Length + 1)..];
            else if (kv.StartsWith("auth=", StringComparison.Ordinal) && reveal)
            {
                var v = kv[5..];
                secret = v.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? v[7..] : v;
            }
        }
    }

    /// <summary>The a= authzid of a GS2 header, with "=2C" and "=3D" unescaped (RFC 5801 §4).</summary>
    private static string? Gs2AuthzId(string gs2)
    {
        foreach (var field in gs2.Split(','))
            if (field.StartsWith("a=", StringComparison.Ordinal))
                return field[2..].Replace("=2C", ",").Replace("=3D", "=");
        return null;
    }

    /// <summary>A SCRAM attribute "c=value", saslname unescaped (RFC 5802 §5.1).</summary>
    private static string? Attribute(string message, char name)
    {
        foreach (var field in message.Split(','))
            if (field.Length >= 2 && field[0] == name && field[1] == '=')
                return field[2..].Replace("=2C", ",").Replace("=3D", "=");
        return null;
    }

    /// <summary>A DIGEST-MD5 directive, quoted or token (RFC 2831 §7.1).</summary>
    private static string? Directive(string s, string name)
    {
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && (s[i] == ',' || s[i] == ' ')) i++;
            int eq = s.IndexOf('=', i);
            if (eq < 0) return null;
            var key = s[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < s.Length && s[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length) i++;
                    sb.Append(s[i++]);
                }
                i++;
                value = sb.ToString();
            }
            else
            {
                int end = s.IndexOf(',', i);
                if (end < 0) end = s.Length;
                value = s[i..end].Trim();
                i = end;
            }
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase)) return value;
        }
        return null;
    }
}
