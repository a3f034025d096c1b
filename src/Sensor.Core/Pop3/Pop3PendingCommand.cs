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

/// <summary>A command awaiting its status line; POP3 answers strictly in order (RFC 2449 §6.6).</summary>
internal sealed class Pop3PendingCommand
{
    public required Pop3CommandKind Kind { get; init; }
    public long TimestampNs { get; set; }
    public string? Username { get; init; }
    public string? Secret { get; init; }
    public SaslExchange? Sasl { get; init; }
}
