using System.Text;

namespace Sensor.Core.Text;

/// <summary>Case-insensitive ASCII matching on raw protocol bytes, without making strings.</summary>
public static class AsciiText
{
    public static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> upperPrefix)
    {
        if (s.Length < upperPrefix.Length) return false;
        for (int i = 0; i < upperPrefix.Length; i++)
        {
            byte c = s[i];
            if (c >= (byte)'a' && c <= (byte)'z') c -= 32;
            if (c != upperPrefix[i]) return false;
        }
        return true;
    }

    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> upper) =>
        s.Length == upper.Length && StartsWithIgnoreCase(s, upper);

    /// <summary>The word before the first space, and what follows that space.</summary>
    public static ReadOnlySpan<byte> NextWord(ref ReadOnlySpan<byte> s)
    {
        int sp = s.IndexOf((byte)' ');
        ReadOnlySpan<byte> word;
        if (sp < 0) { word = s; s = default; }
        else { word = s[..sp]; s = s[(sp + 1)..]; }
        return word;
    }

    public static ReadOnlySpan<byte> TrimSpaces(ReadOnlySpan<byte> s)
    {
        int a = 0, b = s.Length;
        while (a < b && (s[a] == (byte)' ' || s[a] == (byte)'\t')) a++;
        while (b > a && (s[b - 1] == (byte)' ' || s[b - 1] == (byte)'\t')) b--;
        return s[a..b];
    }

    /// <summary>Upper-case ASCII string for names that go into events (mechanism names).</summary>
    public static string ToUpperString(ReadOnlySpan<byte> s) => Encoding.ASCII.GetString(s).ToUpperInvariant();

    /// <summary>Protocol text as it goes into an event: UTF-8 where valid, replacement characters where not.</summary>
    public static string Decode(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
