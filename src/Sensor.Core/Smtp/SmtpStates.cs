namespace Sensor.Core.Smtp;

/// <summary>What the next client bytes of an SMTP connection are (RFC 5321 §4.1, RFC 3030, RFC 4954).</summary>
internal enum SmtpClientState : byte
{
    /// <summary>The next line is a command: verb [SP arguments].</summary>
    Command,
    /// <summary>Lines are SASL responses of an AUTH (RFC 4954 §4) until its final reply, or "*".</summary>
    SaslResponses,
    /// <summary>
    /// A message body after DATA, skipped to its &lt;CRLF&gt;.&lt;CRLF&gt; (RFC 5321 §4.5.2: a body line
    /// that starts with "." is sent with one more "."), never read as commands.
    /// </summary>
    DataBody,
    /// <summary>A BDAT chunk (RFC 3030 §2), skipped by its announced length, never scanned.</summary>
    BdatChunk,
}

/// <summary>What the next server bytes of an SMTP connection are.</summary>
internal enum SmtpServerState : byte
{
    /// <summary>The first reply is the server's greeting, 220 or 554 (RFC 5321 §4.2, §3.1).</summary>
    Greeting,
    /// <summary>Replies (single or multi-line, RFC 5321 §4.2.1) answer the queued commands in order.</summary>
    Reply,
    /// <summary>STARTTLS was accepted with 220 (RFC 3207 §4): what follows is TLS and nothing more is parsed.</summary>
    Tls,
}

internal enum SmtpCommandKind : byte
{
    /// <summary>Any command answered by one reply whose outcome does not matter here.</summary>
    Other,
    /// <summary>EHLO: its 250 reply lists the extensions (RFC 5321 §4.1.1.1).</summary>
    Ehlo,
    /// <summary>AUTH mechanism [initial-response] (RFC 4954 §4): 334 challenges, then a final reply.</summary>
    Auth,
    /// <summary>STARTTLS (RFC 3207 §4): 220 turns the connection to TLS, 454 leaves it in cleartext.</summary>
    StartTls,
    /// <summary>DATA: 354 starts the body (RFC 5321 §4.1.1.4); any other reply means no body follows.</summary>
    Data,
}
