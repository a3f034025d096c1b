using System.Text.Json;

namespace Sensor.CaptureGenerator;

/// <summary>The exact counts a correct sensor must report for the generated capture.</summary>
internal sealed class Tally
{
    public readonly SortedDictionary<string, long> ByKey = new(StringComparer.Ordinal);
    public long AuthEvents;
    public long StartTlsEvents;
    public long StartTlsSuccess;
    public long MailSessions;
    public long ImapSessions;
    public long Pop3Sessions;
    public long UnusualPortSessions;
    public long NoiseFlows;
    public long HttpFlows;
    public long TlsFlows;

    /// <summary>One login attempt: proto imap|pop3, mechanism as the sensor names it (LOGIN, USER, APOP, AUTH=PLAIN, ...).</summary>
    public void Auth(string proto, string mechanism, bool success)
    {
        string exposure = mechanism is "APOP" or "AUTH=CRAM-MD5" ? "hashed" : "cleartext";
        string key = $"{proto} {mechanism} {exposure} {(success ? "success" : "failure")}";
        ByKey[key] = ByKey.GetValueOrDefault(key) + 1;
        AuthEvents++;
    }

    public void StartTls(bool success)
    {
        StartTlsEvents++;
        if (success) StartTlsSuccess++;
    }

    public void WriteJson(string path, Options o, long packets, long bytes)
    {
        using var file = File.Create(path);
        using var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteNumber("auth_events", AuthEvents);
        w.WriteStartObject("by_key");
        foreach (var (k, v) in ByKey) w.WriteNumber(k, v);
        w.WriteEndObject();
        w.WriteNumber("starttls_events", StartTlsEvents);
        w.WriteNumber("starttls_success", StartTlsSuccess);
        w.WriteNumber("packets", packets);
        w.WriteNumber("bytes", bytes);
        w.WriteNumber("mail_sessions", MailSessions);
        w.WriteNumber("noise_flows", NoiseFlows);
        w.WriteNumber("imap_sessions", ImapSessions);
        w.WriteNumber("pop3_sessions", Pop3Sessions);
        w.WriteNumber("unusual_port_sessions", UnusualPortSessions);
        w.WriteNumber("http_flows", HttpFlows);
        w.WriteNumber("tls_flows", TlsFlows);
        w.WriteStartObject("args");
        w.WriteNumber("sessions", o.Sessions);
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("concurrency", o.Concurrency);
        w.WriteNumber("body_kib", o.BodyKib);
        w.WriteNumber("noise_ratio", o.NoiseRatio);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        file.Write("\n"u8);
    }
}
