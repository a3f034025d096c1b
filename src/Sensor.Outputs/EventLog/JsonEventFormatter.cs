using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sensor.Core.Events;
using Sensor.Core.Flows;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// The event log's JSON shape, one object per event, field names after Suricata's EVE
/// (timestamp, host = the sensor, flow_id, event_type, src_ip/src_port = client, dest_ip/dest_port = server, app_proto).
/// The secret is "[redacted]" unless the analyzers were asked to reveal it.
/// </summary>
public static class JsonEventFormatter
{
    private static readonly JsonWriterOptions Options = new()
    {
        // The sensor's own strings: escape what JSON requires and keep the rest readable. Wire text
        // goes through WriteWireString instead.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The names every event and every login has, encoded once: given as strings, each was
    /// transcoded and checked for escaping again per field of every event (callgrind: about 850
    /// instructions a field). The rarer objects keep plain strings.
    /// </summary>
    private static class Names
    {
        public static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
        public static readonly JsonEncodedText Host = JsonEncodedText.Encode("host");
        public static readonly JsonEncodedText FlowId = JsonEncodedText.Encode("flow_id");
        public static readonly JsonEncodedText EventType = JsonEncodedText.Encode("event_type");
        public static readonly JsonEncodedText SrcIp = JsonEncodedText.Encode("src_ip");
        public static readonly JsonEncodedText SrcPort = JsonEncodedText.Encode("src_port");
        public static readonly JsonEncodedText DestIp = JsonEncodedText.Encode("dest_ip");
        public static readonly JsonEncodedText DestPort = JsonEncodedText.Encode("dest_port");
        public static readonly JsonEncodedText AppProto = JsonEncodedText.Encode("app_proto");
        public static readonly JsonEncodedText PcapFile = JsonEncodedText.Encode("pcap_file");
        public static readonly JsonEncodedText Direction = JsonEncodedText.Encode("direction");
        public static readonly JsonEncodedText Auth = JsonEncodedText.Encode("auth");
        public static readonly JsonEncodedText Mechanism = JsonEncodedText.Encode("mechanism");
        public static readonly JsonEncodedText Username = JsonEncodedText.Encode("username");
        public static readonly JsonEncodedText Secret = JsonEncodedText.Encode("secret");
        public static readonly JsonEncodedText Exposure = JsonEncodedText.Encode("exposure");
        public static readonly JsonEncodedText Outcome = JsonEncodedText.Encode("outcome");
        public static readonly JsonEncodedText ServerOffersStartTls = JsonEncodedText.Encode("server_offers_starttls");
    }

    /// <param name="host">The sensor's name (EVE's `host`), or null to leave the field out.</param>
    public static void Write(Stream output, SensorEvent e, string? host, string? captureFile)
    {
        using var w = new Utf8JsonWriter(output, Options);
        Write(w, e, host, captureFile);
    }

    /// <summary>
    /// A writer for <see cref="Write(Utf8JsonWriter, SensorEvent, string?, string?)"/> that a caller
    /// writing many events keeps, calling <see cref="Utf8JsonWriter.Reset(Stream)"/> before each.
    /// </summary>
    public static Utf8JsonWriter CreateWriter(Stream output) => new(output, Options);

    public static string ToJson(SensorEvent e, string? captureFile = null, string? host = null)
    {
        using var ms = new MemoryStream();
        Write(ms, e, host, captureFile);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static void Write(Utf8JsonWriter w, SensorEvent e, string? host, string? captureFile)
    {
        w.WriteStartObject();
        w.WriteString(Names.Timestamp, EventNames.Timestamp(e.TimestampNs));
        // Which sensor saw it: a SIEM fed by several sensors tells them apart by this (the user's own text).
        if (host is not null) WriteWireString(w, Names.Host, host);
        // A server report is about no one connection: no flow, no client.
        if (e is not ServerReport) w.WriteString(Names.FlowId, e.FlowId);
        w.WriteString(Names.EventType, EventNames.EventType(e));
        if (e is not ServerReport)
        {
            w.WriteString(Names.SrcIp, e.Client.AddressText);
            w.WriteNumber(Names.SrcPort, e.Client.Port);
        }
        w.WriteString(Names.DestIp, e.Server.AddressText);
        w.WriteNumber(Names.DestPort, e.Server.Port);
        w.WriteString(Names.AppProto, EventNames.Of(e.Protocol));
        if (captureFile is not null) WriteWireString(w, Names.PcapFile, captureFile);
        if (!e.Tunnel.IsEmpty) WriteTunnel(w, e.Tunnel);
        if (e.Direction is { } direction) w.WriteString(Names.Direction, EventNames.Of(direction));
        switch (e)
        {
            case AuthAttempt a:
                w.WriteStartObject(Names.Auth);
                WriteWireString(w, Names.Mechanism, a.Mechanism);
                if (a.Username is null) w.WriteNull(Names.Username); else WriteWireString(w, Names.Username, a.Username);
                WriteWireString(w, Names.Secret, a.Secret ?? EventNames.Redacted);
                w.WriteString(Names.Exposure, EventNames.Of(a.Exposure));
                w.WriteString(Names.Outcome, EventNames.Of(a.Outcome));
                if (a.ServerOffersStartTls is bool offered) w.WriteBoolean(Names.ServerOffersStartTls, offered);
                w.WriteEndObject();
                break;
            case PasswordGuessing g:
                w.WriteStartObject("bruteforce");
                w.WriteString("kind", g.Kind == GuessingKind.Spraying ? "spraying" : "guessing");
                w.WriteNumber("failures", g.Failures);
                w.WriteNumber("usernames", g.DistinctUsernames);
                if (g.Username is not null) WriteWireString(w, Names.Username, g.Username);
                w.WriteNumber("window_seconds", g.WindowSeconds);
                w.WriteEndObject();
                break;
            case ServerReport r:
                w.WriteStartObject("server");
                w.WriteString("first_seen", EventNames.Timestamp(r.FirstSeenNs));
                w.WriteString("last_seen", EventNames.Timestamp(r.LastSeenNs));
                if (r.OffersStartTls is bool starttls) w.WriteBoolean("starttls_offered", starttls); else w.WriteNull("starttls_offered");
                w.WriteBoolean("login_disabled", r.LoginDisabled);
                if (r.Protocol == AppProtocol.Smtp) w.WriteBoolean("auth_before_starttls", r.AuthBeforeStartTls);
                w.WriteStartArray("capabilities");
                foreach (var name in MailCapabilityNames.Names(r.Capabilities)) w.WriteStringValue(name);
                w.WriteEndArray();
                w.WriteNumber("logins", r.Logins);
                w.WriteNumber("logins_failed", r.LoginsFailed);
                w.WriteNumber("cleartext_logins", r.CleartextLogins);
                w.WriteNumber("cleartext_logins_accepted", r.CleartextLoginsAccepted);
                w.WriteNumber("starttls_upgrades", r.StartTlsUpgrades);
                if (r.Inside is bool inside) w.WriteBoolean("inside", inside);
                if (r.Evicted) w.WriteBoolean("evicted", true);
                w.WriteEndObject();
                break;
            case StartTlsUpgrade s:
                w.WriteStartObject("tls");
                w.WriteString("outcome", EventNames.Of(s.Outcome));
                w.WriteEndObject();
                break;
        }
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>
    /// How the connection arrived, outermost layer first: `"tunnel":[{"type":"vxlan","id":42},...]`
    /// (Suricata's EVE has a similar `tunnel` object for the outer layer; this keeps every layer).
    /// </summary>
    private static void WriteTunnel(Utf8JsonWriter w, in Core.Flows.Encapsulation tunnel)
    {
        w.WriteStartArray("tunnel");
        for (int i = 0; i < tunnel.Count; i++)
        {
            var (kind, id) = tunnel[i];
            w.WriteStartObject();
            w.WriteString("type", kind.Name());
            if (tunnel.HasId(i)) w.WriteNumber("id", id);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (tunnel.Depth > tunnel.Count) w.WriteNumber("tunnel_depth", tunnel.Depth);
    }

    /// <summary>
    /// A string from the wire. The relaxed encoder leaves bidi overrides and isolates, zero-width
    /// and other format characters as they are: valid JSON, but `tail -f` on the event log would
    /// show them reordering or hiding text. Here every character <see cref="WireText.IsUnsafe"/>
    /// names is a \u escape as well (so are U+2028/U+2029, which some line readers split on);
    /// a JSON parser gives back exactly the string that was sent.
    /// </summary>
    private static void WriteWireString(Utf8JsonWriter w, JsonEncodedText name, string value)
    {
        w.WritePropertyName(name);
        if (value.Length <= MaxPlainLiteral && IsPlain(value))
        {
            // What JsonLiteral makes of plain text is the text in quotes; written as bytes, it needs no
            // StringBuilder, no transcoding and no parse to check it. Most wire strings are plain (the
            // host, mechanism names, usernames, "[redacted]"): the literal and its check cost about
            // 1,900 instructions each, 5 % of a `read --json` (callgrind).
            Span<byte> literal = stackalloc byte[MaxPlainLiteral + 2];
            literal[0] = (byte)'"';
            int length = Encoding.ASCII.GetBytes(value, literal[1..]);
            literal[length + 1] = (byte)'"';
            w.WriteRawValue(literal[..(length + 2)], skipInputValidation: true);
            return;
        }
        w.WriteRawValue(JsonLiteral(value));
    }

    private const int MaxPlainLiteral = 256;

    /// <summary>Printable ASCII but the quote and backslash: the characters JsonLiteral writes as they are.</summary>
    private static bool IsPlain(string value)
    {
        foreach (char c in value)
            if (c < 0x20 || c > 0x7E || c is '"' or '\\') return false;
        return true;
    }

    private static string JsonLiteral(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                if (WireText.IsUnsafe(char.ConvertToUtf32(c, value[i + 1]))) AppendU(AppendU(sb, c), value[i + 1]);
                else sb.Append(c).Append(value[i + 1]);
                i++;
                continue;
            }
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default:
                    // A lone surrogate is not text (UTF-8 cannot carry it): U+FFFD, as a decoder gives.
                    if (char.IsSurrogate(c)) sb.Append(@"\uFFFD");
                    else if (WireText.IsUnsafe(c)) AppendU(sb, c);
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static StringBuilder AppendU(StringBuilder sb, char c) => sb.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
}
