using System.Buffers.Binary;
using System.Text;

namespace Sensor.Core.Sasl;

/// <summary>
/// The NTLM AUTHENTICATE_MESSAGE (type 3) fields the sensor reports ([MS-NLMP] §2.2.1.3): domain,
/// user and the NT challenge response. Every offset is checked against the message length.
/// </summary>
public static class NtlmMessage
{
    private const uint NegotiateUnicode = 0x00000001;

    /// <summary>An AUTHENTICATE message (type 3) by its header, whether or not its fields can be read.</summary>
    public static bool IsAuthenticate(byte[] m) =>
        m.Length >= 12 && m.AsSpan(0, 8).SequenceEqual("NTLMSSP\0"u8) && BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(8)) == 3;

    public static bool TryReadAuthenticate(byte[] m, out string domain, out string user, out byte[] ntResponse)
    {
        domain = user = "";
        ntResponse = [];
        if (m.Length < 64 || !m.AsSpan(0, 8).SequenceEqual("NTLMSSP\0"u8)) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(8)) != 3) return false;
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(60));
        var encoding = (flags & NegotiateUnicode) != 0 ? Encoding.Unicode : Encoding.Latin1;
        if (!TryField(m, 20, out var nt) || !TryField(m, 28, out var dom) || !TryField(m, 36, out var usr)) return false;
        domain = encoding.GetString(dom);
        user = encoding.GetString(usr);
        ntResponse = nt.ToArray();
        return true;
    }

    /// <summary>A security buffer: length (2), max length (2), offset (4).</summary>
    private static bool TryField(byte[] m, int at, out ReadOnlySpan<byte> field)
    {
        field = default;
        int len = BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(at));
        uint off = BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(at + 4));
        if (off > (uint)m.Length || len > m.Length - (int)off) return false;
        field = m.AsSpan((int)off, len);
        return true;
    }
}
