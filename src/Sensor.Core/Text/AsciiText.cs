using System.Buffers;
using System.Text;

namespace Sensor.Core.Text;

/// <summary>Case-insensitive ASCII matching on raw protocol bytes, without making strings.</summary>
public static class AsciiText
{
    /// <summary>Whether <paramref name="s"/> starts with the ASCII keyword <paramref name="upperPrefix"/>,
    /// ignoring the case of ASCII letters; a non-ASCII byte matches nothing.</summary>
    public static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> upperPrefix) =>
        s.Length >= upperPrefix.Length && Ascii.EqualsIgnoreCase(s[..upperPrefix.Length], upperPrefix);

    /// <summary>Whether <paramref name="s"/> is the ASCII keyword <paramref name="upper"/>, ignoring the
    /// case of ASCII letters; a non-ASCII byte matches nothing.</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> upper) =>
        Ascii.EqualsIgnoreCase(s, upper);

    /// <summary>The word before the first space, and what follows that space.</summary>
    public static ReadOnlySpan<byte> NextWord(ref ReadOnlySpan<byte> s)
    {
        int sp = s.IndexOf((byte)' ');
        ReadOnlySpan<byte> word;
        if (sp < 0) { word = s; s = default; }
        else { word = s[..sp]; s = s[(sp + 1)..]; }
        return word;
    }

    /// <summary>Without the spaces and tabs at either end. Only those: <see cref="Ascii.Trim(ReadOnlySpan{byte})"/>
    /// would take CR and LF too, which the protocol grammars treat as data.</summary>
    public static ReadOnlySpan<byte> TrimSpaces(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);

    /// <summary>Upper-case ASCII string for names that go into events (mechanism names); each
    /// non-ASCII byte becomes '?', as <see cref="Encoding.ASCII"/> decodes it.</summary>
    public static string ToUpperString(ReadOnlySpan<byte> s) =>
        string.Create(s.Length, s, static (chars, bytes) =>
        {
            while (Ascii.ToUpper(bytes, chars, out int done) != OperationStatus.Done)
            {
                chars[done] = '?';
                bytes = bytes[(done + 1)..];
                chars = chars[(done + 1)..];
            }
        });

    /// <summary>Protocol text as it goes into an event: UTF-8 where valid, replacement characters where not.</summary>
    public static string Decode(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
