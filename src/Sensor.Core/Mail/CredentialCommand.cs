namespace Sensor.Core.Mail;

/// <summary>
/// A command that carries a credential, held as it was on the wire (lines and literals) until it is
/// complete. Bounded: past the limit it only remembers that it overflowed.
/// </summary>
public sealed class CredentialCommand
{
    private readonly byte[] _bytes;
    private int _length;

    public CredentialCommand(int capacity) => _bytes = new byte[capacity];

    public bool Overflowed { get; private set; }
    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (Overflowed) return;
        if (_length + data.Length > _bytes.Length) { Overflowed = true; return; }
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
    }
}
