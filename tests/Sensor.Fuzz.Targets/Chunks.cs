namespace Sensor.Fuzz.Targets;

/// <summary>
/// The framing shared by the <c>mail</c> and <c>sasl</c> inputs: after the target's first byte, a
/// sequence of chunks, each a header byte and a payload. Header bit 7 is the direction (set: the
/// server speaks), bit 6 a per-target flag (mail: the chunk is lost on the way; sasl: the payload is
/// a decoded message to be base64-encoded), bits 0-5 the length; length 63 means a two-byte
/// big-endian length follows, for the few messages longer than that (NTLM, long lines). A length
/// beyond the input takes what is left, so every input is valid and AFL's mutations stay meaningful.
/// </summary>
public readonly ref struct Chunk(bool fromServer, bool flag, ReadOnlySpan<byte> payload)
{
    public bool FromServer { get; } = fromServer;
    public bool Flag { get; } = flag;
    public ReadOnlySpan<byte> Payload { get; } = payload;
}

public ref struct ChunkReader(ReadOnlySpan<byte> input)
{
    private ReadOnlySpan<byte> _rest = input;

    public const byte ServerBit = 0x80;
    public const byte FlagBit = 0x40;
    public const int LongLength = 63;

    public bool Next(out Chunk chunk)
    {
        chunk = default;
        if (_rest.IsEmpty) return false;
        byte header = _rest[0];
        _rest = _rest[1..];
        int length = header & LongLength;
        if (length == LongLength)
        {
            length = _rest.Length >= 2 ? (_rest[0] << 8) | _rest[1] : 0;
            _rest = _rest[Math.Min(2, _rest.Length)..];
        }
        length = Math.Min(length, _rest.Length);
        chunk = new Chunk((header & ServerBit) != 0, (header & FlagBit) != 0, _rest[..length]);
        _rest = _rest[length..];
        return true;
    }

    /// <summary>Writes one chunk in this format (used to make seeds).</summary>
    public static void Write(Stream output, bool fromServer, bool flag, ReadOnlySpan<byte> payload)
    {
        byte bits = (byte)((fromServer ? ServerBit : 0) | (flag ? FlagBit : 0));
        if (payload.Length < LongLength)
        {
            output.WriteByte((byte)(bits | payload.Length));
        }
        else
        {
            if (payload.Length > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(payload), "at most 65535 bytes a chunk");
            output.WriteByte((byte)(bits | LongLength));
            output.WriteByte((byte)(payload.Length >> 8));
            output.WriteByte((byte)payload.Length);
        }
        output.Write(payload);
    }
}
