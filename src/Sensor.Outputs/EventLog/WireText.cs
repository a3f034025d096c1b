using System.Globalization;
using System.Text;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// Text that came from the wire (usernames, mechanism names, revealed secrets) written into a
/// readable line. An attacker chooses it, so it must not be able to end the line and forge another
/// finding, move or recolour the terminal (ESC sequences, C1 controls), reorder what is shown
/// (bidi overrides and isolates), hide characters (zero-width and other format characters), or
/// pass for another field (spaces, "user=").
/// <para>A value is written bare when every character is printable ASCII other than space and
/// <c>" \ ( ) [ ]</c>; otherwise in double quotes, where <c>\</c> and <c>"</c> are escaped and
/// so is every character <see cref="IsUnsafe"/> names: <c>\r \n \t \e</c>, <c>\xHH</c> for other
/// C0 controls, DEL and C1 controls, <c>\uHHHH</c> or <c>\UHHHHHHHH</c> for the rest (U+2028,
/// U+202E, U+00A0, ...). So a line splits into fields at unquoted spaces, a quoted field ends at
/// the first unescaped quote, and every value can be recovered exactly. The brackets and
/// parentheses keep a real value apart from the sensor's own <c>(unknown)</c> and <c>[redacted]</c>.</para>
/// </summary>
public static class WireText
{
    /// <summary>A field value: bare when nothing in it could be mistaken for structure, else quoted and escaped.</summary>
    public static string Token(string value)
    {
        if (value.Length > 0 && IsBare(value)) return value;
        var sb = new StringBuilder(value.Length + 8).Append('"');
        AppendEscaped(sb, value);
        return sb.Append('"').ToString();
    }

    /// <summary>The value with control, format and separator characters and backslash escaped (no quotes added).</summary>
    public static string Escape(string value)
    {
        if (!NeedsEscape(value)) return value;
        var sb = new StringBuilder(value.Length + 8);
        AppendEscaped(sb, value);
        return sb.ToString();
    }

    /// <summary>
    /// Characters that never reach an output as themselves: controls (C0, DEL, C1), format
    /// characters (bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, marks, zero-width
    /// characters, BOM, tag characters), line and paragraph separators, and spaces other than U+0020.
    /// </summary>
    public static bool IsUnsafe(int codePoint) => codePoint < 0x20 || codePoint == 0x7F || (codePoint >= 0x80 &&
        (codePoint <= 0x9F || CharUnicodeInfo.GetUnicodeCategory(codePoint) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator
            or UnicodeCategory.Surrogate));

    private static bool IsBare(string value)
    {
        foreach (char c in value)
            if (c <= ' ' || c >= 0x7F || c is '"' or '\\' or '(' or ')' or '[' or ']') return false;
        return true;
    }

    private static bool NeedsEscape(string value)
    {
        foreach (char c in value)
            if (c == '\\' || c < 0x20 || c >= 0x7F) // non-ASCII is looked at closely in AppendEscaped
                return true;
        return false;
    }

    private static void AppendEscaped(StringBuilder sb, string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            int cp = c;
            int units = 1;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                cp = char.ConvertToUtf32(c, value[i + 1]);
                units = 2;
            }
            switch (cp)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\r': sb.Append(@"\r"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case 0x1B: sb.Append(@"\e"); break;
                case < 0x20 or (>= 0x7F and <= 0x9F): sb.Append(@"\x").Append(cp.ToString("x2", CultureInfo.InvariantCulture)); break;
                default:
                    if (!IsUnsafe(cp)) sb.Append(value, i, units);
                    else if (cp <= 0xFFFF) sb.Append(@"\u").Append(cp.ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(@"\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                    break;
            }
            i += units - 1;
        }
    }
}
