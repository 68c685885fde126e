using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace Presence.Domain.Audit;

/// <summary>
/// Reads the instants people type for history questions: an ISO-8601 instant (2026-11-25T09:15:00Z), one with an
/// offset (2026-11-25T10:15:00+01:00), or a date-time or date without one, which is read on the house's clock.
/// </summary>
public static class Instants
{
    public const string Accepted =
        "an ISO-8601 instant such as 2026-11-25T09:15:00Z, one with an offset such as 2026-11-25T10:15:00+01:00, " +
        "or a local date-time or date in the house's time zone such as 2026-11-25T10:15 or 2026-11-25";

    private static readonly IPattern<Instant> Utc = InstantPattern.ExtendedIso;
    private static readonly IPattern<OffsetDateTime> WithOffset = OffsetDateTimePattern.ExtendedIso;
    private static readonly IPattern<LocalDateTime> Local = LocalDateTimePattern.ExtendedIso;
    private static readonly IPattern<LocalDateTime> LocalMinutes = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm");
    private static readonly IPattern<LocalDate> Date = LocalDatePattern.Iso;

    /// <param name="what">The name of the option or parameter, so the error says which one was wrong.</param>
    public static Instant Parse(string text, DateTimeZone houseZone, string what)
    {
        var trimmed = text.Trim();
        if (Utc.Parse(trimmed) is { Success: true } utc)
        {
            return utc.Value;
        }

        if (WithOffset.Parse(trimmed) is { Success: true } offset)
        {
            return offset.Value.ToInstant();
        }

        // A local time that a clock change skipped or repeated is read leniently: a person asking about "02:30" on
        // that night means about then, not an error.
        if (Local.Parse(trimmed) is { Success: true } local)
        {
            return local.Value.InZoneLeniently(houseZone).ToInstant();
        }

        if (LocalMinutes.Parse(trimmed) is { Success: true } minutes)
        {
            return minutes.Value.InZoneLeniently(houseZone).ToInstant();
        }

        if (Date.Parse(trimmed) is { Success: true } date)
        {
            return houseZone.AtStartOfDay(date.Value).ToInstant();
        }

        throw new AuditException(AuditProblem.BadInstant,
            string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is not an instant: give {2}", what, text, Accepted));
    }

    public static Instant? ParseOptional(string? text, DateTimeZone houseZone, string what) =>
        string.IsNullOrWhiteSpace(text) ? null : Parse(text, houseZone, what);

    /// <summary>The house's zone by its tz name, or UTC when the name is unknown (history must stay readable).</summary>
    public static DateTimeZone Zone(string? timeZone) =>
        (timeZone is null ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(timeZone)) ?? DateTimeZone.Utc;
}
