namespace Sensor.Core.Imap;

/// <summary>What the next client bytes of an IMAP connection are (RFC 3501 §2.2, §4.3, §6.2.2).</summary>
internal enum ImapClientState : byte
{
    /// <summary>The next line starts a command: tag SP command [SP arguments].</summary>
    Command,
    /// <summary>A literal of a command the sensor does not follow, skipped by length, never scanned.</summary>
    Literal,
    /// <summary>The line after a skipped literal: the rest of the same command.</summary>
    CommandContinues,
    /// <summary>A literal inside a LOGIN (username or password sent as a literal), kept as on the wire.</summary>
    LoginLiteral,
    /// <summary>The line after a LOGIN literal: the rest of the LOGIN.</summary>
    LoginContinues,
    /// <summary>Lines are SASL responses of an AUTHENTICATE until its tagged completion.</summary>
    SaslResponses,
}

/// <summary>What the next server bytes of an IMAP connection are.</summary>
internal enum ImapServerState : byte
{
    /// <summary>The next line starts a response: untagged "*", continuation "+", or tagged.</summary>
    Response,
    /// <summary>A literal in a response (FETCH BODY[] {n}), skipped by length.</summary>
    Literal,
    /// <summary>The line after a response literal: the rest of the same response.</summary>
    ResponseContinues,
    /// <summary>STARTTLS was accepted (RFC 3501 §6.2.1): what follows is TLS and nothing more is parsed.</summary>
    Tls,
}
