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
    public long TimestampNs { get; init; }
    public string? Username { get; init; }
    public string? Secret { get; init; }
    public SaslExchange? Sasl { get; init; }
    /// <summary>
    /// Read after client bytes were lost: it may be a line of a message body whose literal
    /// announcement was lost, until the server answers its tag.
    /// </summary>
    public bool Unproven { get; set; }
    /// <summary>Which stretch of in-order client bytes it was read in (one per client-side loss).</summary>
    public int ClientEpoch { get; init; }
}
