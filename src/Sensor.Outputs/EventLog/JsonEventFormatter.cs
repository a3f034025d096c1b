using System.Text.Encodings.Web;
using System.Text.Json;
using Sensor.Core.Events;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// The event log's JSON shape, one object per event, field names after Suricata's EVE
/// (timestamp, flow_id, event_type, src_ip/src_port = client, dest_ip/dest_port = server, app_proto).
/// The secret is "[redacted]" unless the analyzers were asked to reveal it.
/// </summary>
public static class JsonEventFormatter
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Usernames may contain anything; escape only what JSON requires and keep the rest readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(Stream output, SensorEvent e, string? captureFile)
    {
        using var w = new Utf8JsonWriter(output, Options);
        Write(w, e, captureFile);
    }

    public static string ToJson(SensorEvent e, string? captureFile = null)
    {
        using var ms = new MemoryStream();
        Write(ms, e, captureFile);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static void Write(Utf8JsonWriter w, SensorEvent e, string? captureFile)
    {
        w.WriteStartObject();
        w.WriteString("timestamp", EventNames.Timestamp(e.TimestampNs));
        w.WriteString("flow_id", e.FlowId);
        w.WriteString("event_type", EventNames.EventType(e));
        w.WriteString("src_ip", e.Client.AddressText);
        w.WriteNumber("src_port", e.Client.Port);
        w.WriteString("dest_ip", e.Server.AddressText);
        w.WriteNumber("dest_port", e.Server.Port);
        w.WriteString("app_proto", EventNames.Of(e.Protocol));
        if (captureFile is not null) w.WriteString("pcap_file", captureFile);
        switch (e)
        {
            case AuthAttempt a:
                w.WriteStartObject("auth");
                w.WriteString("mechanism", a.Mechanism);
                if (a.Username is null) w.WriteNull("username"); else w.WriteString("username", a.Username);
                w.WriteString("secret", a.Secret ?? EventNames.Redacted);
                w.WriteString("exposure", EventNames.Of(a.Exposure));
                w.WriteString("outcome", EventNames.Of(a.Outcome));
                if (a.ServerOffersStartTls is bool offered) w.WriteBoolean("server_offers_starttls", offered);
                w.WriteEndObject();
                break;
            case PasswordGuessing g:
                w.WriteStartObject("bruteforce");
                w.WriteString("kind", g.Kind == GuessingKind.Spraying ? "spraying" : "guessing");
                w.WriteNumber("failures", g.Failures);
                w.WriteNumber("usernames", g.DistinctUsernames);
                if (g.Username is not null) w.WriteString("username", g.Username);
                w.WriteNumber("window_seconds", g.WindowSeconds);
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
}
