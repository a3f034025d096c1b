using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Sensor.Commands;

/// <summary>
/// Checks of option values that end in one line on stderr and exit 2 (a usage error), never in an
/// exception. A validator must not read a value its converter could not parse: System.CommandLine
/// throws then, instead of reporting the converter's error.
/// </summary>
internal static class OptionChecks
{
    /// <summary>An integer between <paramref name="min"/> and <paramref name="max"/>; <paramref name="meaning"/> says what the bounds mean.</summary>
    public static Option<int?> InRange(this Option<int?> option, int min, int max, string? meaning = null)
    {
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (text is null) return;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
                r.AddError($"{option.Name} takes a whole number, not '{text}'");
            else if (n < min || n > max)
                r.AddError($"{option.Name} must be between {min} and {max}{meaning}");
        });
        return option;
    }

    /// <summary>One of a few words (any case); the error names them on one line, unlike System.CommandLine's own list.</summary>
    public static Option<string?> OneOf(this Option<string?> option, params string[] words)
    {
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (text is not null && !words.Contains(text, StringComparer.OrdinalIgnoreCase))
                r.AddError($"{option.Name} must be {string.Join(", ", words[..^1])} or {words[^1]}, not '{text}'");
        });
        return option;
    }

    /// <summary>Comma-separated CIDR prefixes (see <see cref="Sensor.Core.Site.NetworkPrefix"/>).</summary>
    public static Option<string?> Cidrs(this Option<string?> option)
    {
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (text is null) return;
            if (text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Length == 0)
                r.AddError($"{option.Name} needs at least one CIDR prefix");
            else if (Sensor.Core.Site.HomeNetworks.Parse([text], out var problem) is null)
                r.AddError($"{option.Name}: {problem}");
        });
        return option;
    }

    /// <summary>A path that is not empty (an empty one is no file, and .NET would throw on it).</summary>
    public static Option<string?> NonEmptyPath(this Option<string?> option)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && string.IsNullOrWhiteSpace(r.Tokens[0].Value))
                r.AddError($"{option.Name} needs a path, not an empty string");
        });
        return option;
    }

    /// <summary>An absolute http or https address.</summary>
    public static Option<string?> HttpUrl(this Option<string?> option)
    {
        option.Validators.Add(r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (text is not null && !IsHttpUrl(text))
                r.AddError($"{option.Name} must be an http:// or https:// address (the value is not repeated: it may hold credentials)");
        });
        return option;
    }

    public static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;
}
