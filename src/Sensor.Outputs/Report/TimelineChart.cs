using System.Globalization;
using System.Text;
using Sensor.Outputs.EventLog;

namespace Sensor.Outputs.Report;

/// <summary>
/// The timeline as inline SVG drawn here, not by script: it shows with scripts off and in a printout.
/// One column per bucket from the first to the last (empty buckets are gaps, so time reads true), each
/// a stack of one bar per exposure × outcome present, cleartext at the bottom where the eye lands.
/// Hue says what crossed the wire, shade the server's answer. Every bar carries its series and count
/// as data attributes and its numbers in a tooltip.
/// </summary>
public static class TimelineChart
{
    private const int Width = 960, Height = 280, Left = 52, Right = 12, Top = 12, Bottom = 44;
    private const int MinSlots = 24;

    public static readonly IReadOnlyList<string> SeriesNames =
        TimelineBuckets.Exposures.SelectMany(e => TimelineBuckets.Outcomes.Select(o => $"{EventNames.Of(e)}-{EventNames.Of(o)}")).ToList();

    // Per exposure (cleartext, hashed, none, unknown) the shades for success, failure, unknown answer.
    private static readonly string[] Colors =
    [
        "#b3261e", "#e8776f", "#f4c2bd",
        "#b26a00", "#f0a93b", "#f8d9a6",
        "#1b7a43", "#5cc08a", "#b5e3c8",
        "#4a4a4a", "#8f8f8f", "#d0d0d0",
    ];

    public static string ColorOf(int series) => Colors[series];

    /// <summary>The bucket width in words, for the axis and the legend ("5 min", "1 day").</summary>
    public static string WidthText(long seconds) => seconds switch
    {
        < 60 => $"{seconds} s",
        < 3600 => $"{seconds / 60} min",
        < 86_400 => $"{seconds / 3600} h",
        _ when seconds % 604_800 == 0 => seconds == 604_800 ? "1 week" : $"{seconds / 604_800} weeks",
        _ => seconds == 86_400 ? "1 day" : $"{seconds / 86_400} days",
    };

    public static string Svg(TimelineBuckets t)
    {
        var buckets = t.Buckets.ToList();
        if (buckets.Count == 0) return "";
        long width = t.WidthSeconds;
        long first = buckets[0].StartSeconds, last = buckets[^1].StartSeconds;
        int slots = (int)((last - first) / width) + 1;
        if (slots < MinSlots)
        {
            // A short capture: empty columns either side, so one burst is a bar and not a wall.
            first -= (MinSlots - slots) / 2 * width;
            last += (MinSlots - slots - (MinSlots - slots) / 2) * width;
            slots = MinSlots;
        }
        long peak = buckets.Max(b => b.Counts.Sum());
        long top = NiceCeiling(peak);
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double slotW = plotW / slots;
        double gap = slotW >= 4 ? 1 : 0;

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg id=\"timeline-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"Logins per {WidthText(width)} by exposure and outcome\">");
        // Horizontal grid lines with their counts.
        foreach (long tick in Ticks(top))
        {
            double y = Top + plotH - plotH * tick / top;
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{N(y)}\" y2=\"{N(y)}\" stroke=\"#ddd\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Left - 6}\" y=\"{N(y + 4)}\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">{tick}</text>");
        }
        foreach (var (start, counts) in buckets)
        {
            int slot = (int)((start - first) / width);
            double x = Left + slot * slotW + gap / 2;
            double y = Top + plotH;
            string from = Time(start), to = Time(start + width);
            for (int s = 0; s < counts.Length; s++)
            {
                if (counts[s] == 0) continue;
                double h = plotH * counts[s] / top;
                y -= h;
                var (exposure, outcome) = (TimelineBuckets.Exposures[s / TimelineBuckets.Outcomes.Length], TimelineBuckets.Outcomes[s % TimelineBuckets.Outcomes.Length]);
                sb.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar\" data-series=\"{SeriesNames[s]}\" data-count=\"{counts[s]}\" data-start=\"{from}\" x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(Math.Max(slotW - gap, 0.5))}\" height=\"{N(h)}\" fill=\"{Colors[s]}\">");
                sb.Append(CultureInfo.InvariantCulture,
                    $"<title>{from} – {to}: {counts[s]} {EventNames.Of(exposure)} login{(counts[s] == 1 ? "" : "s")}, {EventNames.Of(outcome)}</title></rect>");
            }
        }
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Top + plotH}\" y2=\"{Top + plotH}\" stroke=\"#333\"/>");
        double labelY = Top + plotH + 18;
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left}\" y=\"{labelY}\" font-size=\"11\" fill=\"#333\">{Time(first)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Width - Right}\" y=\"{labelY}\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">{Time(last + width)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left + plotW / 2}\" y=\"{labelY + 16}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">UTC, one column per {WidthText(width)}</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at or above the tallest column.</summary>
    private static long NiceCeiling(long peak)
    {
        long step = 1;
        while (true)
        {
            foreach (long m in (long[])[1, 2, 5])
                if (m * step >= peak) return m * step;
            step *= 10;
        }
    }

    private static IEnumerable<long> Ticks(long top) => top % 2 == 0 ? [0, top / 2, top] : [0, top];

    private static string Time(long seconds) =>
        DateTime.UnixEpoch.AddSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
