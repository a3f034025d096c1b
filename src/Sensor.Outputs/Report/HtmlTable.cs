using System.Globalization;
using System.Text;

namespace Sensor.Outputs.Report;

/// <summary>
/// A table the page's script can sort: a header cell per column (numeric columns sort by number), each
/// body cell with the text shown and, where that text does not sort right ("-", "12.5 %", an IP
/// address), the value to sort by. Only the rows given are written; a line under the table says how
/// many more there were.
/// </summary>
public sealed class HtmlTable(string id, params (string Label, bool Numeric)[] columns)
{
    private readonly StringBuilder _rows = new();

    /// <summary>A cell: its text (already HTML) and its sort value (raw, encoded here), or null to sort by the text.</summary>
    public readonly record struct Cell(string Html, string? SortValue = null, string? Class = null)
    {
        public static Cell Number(long n) => new(n.ToString(CultureInfo.InvariantCulture), null, "num");
        public static Cell Text(string text) => new(HtmlText.Of(text));
    }

    public int RowCount { get; private set; }

    public void Row(params Cell[] cells)
    {
        _rows.Append("<tr>");
        foreach (var c in cells)
        {
            _rows.Append("<td");
            if (c.Class is not null) _rows.Append(" class=\"").Append(c.Class).Append('"');
            if (c.SortValue is not null) _rows.Append(" data-v=\"").Append(HtmlText.Of(c.SortValue)).Append('"');
            _rows.Append('>').Append(c.Html).Append("</td>");
        }
        _rows.Append("</tr>\n");
        RowCount++;
    }

    public void WriteTo(StringBuilder page, long notShown, string empty)
    {
        if (RowCount == 0)
        {
            page.Append("<p class=\"empty\" id=\"").Append(id).Append("-empty\">").Append(HtmlText.Of(empty)).Append("</p>\n");
            return;
        }
        page.Append("<div class=\"scroll\"><table class=\"sortable\" id=\"").Append(id).Append("\"><thead><tr>");
        foreach (var (label, numeric) in columns)
            page.Append("<th scope=\"col\"").Append(numeric ? " data-type=\"num\"" : "").Append('>').Append(HtmlText.Of(label)).Append("</th>");
        page.Append("</tr></thead>\n<tbody>\n").Append(_rows).Append("</tbody></table></div>\n");
        if (notShown > 0)
            page.Append("<p class=\"more\" id=\"").Append(id).Append("-more\">")
                .Append(notShown.ToString("N0", CultureInfo.InvariantCulture))
                .Append(" more not shown (the table keeps the first ").Append(RowCount.ToString(CultureInfo.InvariantCulture))
                .Append(" in the order above; sorting sorts those).</p>\n");
    }
}
