using System.Globalization;
using System.Text.RegularExpressions;
using NodaTime;
using NodaTime.Text;

namespace Presence.Server.Configuration;

/// <summary>
/// Durations in the house file are written the way people say them ("300ms", "90s", "5m", "2h", "1d") or in
/// NodaTime's round-trip form ("0:00:05:00"); a bare number would hide its unit.
/// </summary>
public static partial class DurationText
{
    [GeneratedRegex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h|d)\s*$")]
    private static partial Regex Short();

    public static bool TryParse(string? text, out Duration duration)
    {
        duration = Duration.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var match = Short().Match(text);
        if (match.Success)
        {
            var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            duration = match.Groups["unit"].Value switch
            {
                "ms" => Duration.FromMilliseconds(n),
                "s" => Duration.FromSeconds(n),
                "m" => Duration.FromMinutes(n),
                "h" => Duration.FromHours(n),
                _ => Duration.FromDays(n),
            };
            return true;
        }

        var parsed = DurationPattern.Roundtrip.Parse(text.Trim());
        duration = parsed.Success ? parsed.Value : Duration.Zero;
        return parsed.Success;
    }

    public static Duration Parse(string? text, string key) =>
        TryParse(text, out var d)
            ? d
            : throw new FormatException($"{key} '{text}' is not a duration; write e.g. 300ms, 90s, 5m, 2h or 0:00:05:00");

    public static string Format(Duration d) => d.TotalMilliseconds % 1000 != 0 ? $"{d.TotalMilliseconds:0}ms" : $"{d.TotalSeconds:0}s";
}
