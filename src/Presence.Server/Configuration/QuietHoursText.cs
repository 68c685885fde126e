using NodaTime;
using NodaTime.Text;
using Presence.Domain.House;

namespace Presence.Server.Configuration;

/// <summary>Quiet hours as people write them: `22:00-07:00` (house time; may span midnight), empty or `off` for none.</summary>
public static class QuietHoursText
{
    public static bool TryParse(string? text, out QuietHours? quiet)
    {
        quiet = null;
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            return false;
        }

        var start = LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(parts[0]);
        var end = LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(parts[1]);
        if (!start.Success || !end.Success || start.Value == end.Value)
        {
            return false;
        }

        quiet = new QuietHours(start.Value, end.Value);
        return true;
    }
}
