using Sensor.Core.Sasl;

namespace Sensor.Core.Smtp;

/// <summary>
/// A command awaiting its reply; SMTP replies come strictly in order, also when the client pipelines
/// (RFC 2920 §3.1). A value in the session's queue: a bulk sender's thousands of RCPT commands
/// allocate nothing per command. <see cref="Unproven"/>: read after client bytes were lost and not yet
/// confirmed by a reply, so it may be a line of a message body whose DATA was lost; such a credential
/// is never reported unless a reply proves it was a command.
/// </summary>
internal readonly record struct SmtpPendingCommand(
    SmtpCommandKind Kind, long TimestampNs, bool Unproven, SaslExchange? Sasl = null);
