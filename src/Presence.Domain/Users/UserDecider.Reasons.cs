using System.Globalization;
using NodaTime;
using static System.FormattableString;

namespace Presence.Domain.Users;

/// <summary>
/// Numbers and times as reasons write them. Reasons are recorded and replayed, so they are written the same
/// whatever the server's culture.
/// </summary>
public static partial class UserDecider
{
    /// <summary>
    /// Memory in words, to a tenth of a GiB: rounded down, so free memory never reads as more than it is, or up for
    /// a need, so "7.9 GiB free, needs 8 GiB" can never read as "8 GiB free, needs 8 GiB".
    /// </summary>
    private static string Gib(int mb, bool roundUp = false)
    {
        if (mb < 1024)
        {
            return Invariant($"{mb} MiB");
        }

        var tenths = roundUp ? (mb * 10L + 1023) / 1024 : mb * 10L / 1024;
        return Invariant($"{tenths / 10.0:0.#} GiB");
    }

    private static string Seconds(Duration d) =>
        d.TotalSeconds < 90 ? Invariant($"{d.TotalSeconds:0} s") : Invariant($"{d.TotalMinutes:0.#} min");

    private static string Clock(Context ctx, Instant at) =>
        at.InZone(DateTimeZoneProviders.Tzdb.GetZoneOrNull(ctx.Settings.TimeZone) ?? DateTimeZone.Utc)
            .ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
