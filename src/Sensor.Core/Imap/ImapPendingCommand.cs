using Sensor.Core.Sasl;

namespace Sensor.Core.Imap;

internal enum ImapCommandKind : byte
{
    Login,
    Authenticate,
    StartTls,
}

/// <summary>A command whose tagged completion the sensor waits for (RFC 3501 §2.2.2).</summary>
internal sealed class ImapPendingCommand
{
    public required byte[] Tag { get; init; }
    public required ImapCommandKind Kind { get; init; }
    public long TimestampNs { get; set; }
    public string? Username { get; init; }
    public string? Secret { get; init; }
    public SaslExchange? Sasl { get; init; }
}
