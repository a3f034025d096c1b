using System.Net;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Report;

/// <summary>
/// Text into the page. Every string goes through <see cref="Of"/> (&lt; &gt; &amp; " ' encoded; every
/// attribute is double-quoted), so nothing in it can open an element or leave an attribute. Wire
/// text goes through <see cref="Wire"/> first: controls, bidi overrides and invisible characters are
/// shown as escapes (as in the text output), so a username cannot reorder or hide what the analyst reads.
/// </summary>
public static class HtmlText
{
    /// <summary>Longest wire value shown whole; the data section keeps it all.</summary>
    public const int MaxShown = 120;

    public static string Of(string text) => WebUtility.HtmlEncode(text);

    public static string Wire(string value)
    {
        var escaped = WireText.Escape(value);
        return Of(escaped.Length > MaxShown ? escaped[..MaxShown] + "…" : escaped);
    }
}
