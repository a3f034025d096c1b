using Sensor.Core.Sasl;

namespace Sensor.Core.Pop3;

internal enum Pop3CommandKind : byte
{
    /// <summary>Answered by one status line.</summary>
    SingleLine,
    /// <summary>Answered, on +OK, by a multi-line body ending in "." (RFC 1939 §3).</summary>
    MultiLine,
    Capa,
    User,
    Pass,
    Apop,
    Auth,
    Stls,
}

/// <summary>
/// A command awaiting its status line; POP3 answers strictly in order (RFC 2449 §6.6). A value in
/// the session's queue: a mailbox download of thousands of RETR commands allocates nothing per command.
/// <see cref="Unproven"/>: read after client bytes were lost and not yet confirmed by an answer, so it
/// may be the tail of a broken line rather than a command; such a credential is never reported unless
/// an answer proves it.
/// </summary>
internal readonly record struct Pop3PendingCommand(
    Pop3CommandKind Kind, long TimestampNs, bool Unproven, string? Username = null, string? Secret = null,
    SaslExchange? Sasl = null);
