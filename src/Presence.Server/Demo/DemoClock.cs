using NodaTime;

namespace Presence.Server.Demo;

/// <summary>
/// The one clock of the demo's house: the server and every simulated agent read it, so the `at` an agent stamps is
/// what the server expects (Mqtt:MaxSkew), and the story does not depend on when it is played — quiet hours are in
/// the house's time zone. It starts at a given time of today in that zone, runs at real speed (settling waits are
/// Wolverine delays in real time, so they stay right), and the script moves it forward: "evening, 22:30".
/// </summary>
public sealed class DemoClock : IClock
{
    private readonly IClock wall;
    private long offsetTicks;

    /// <param name="zone">The house's time zone (House:TimeZone).</param>
    /// <param name="start">The time of day the house's clocks show when the demo begins, today in <paramref name="zone"/>.</param>
    /// <param name="wall">Real time; the system clock unless a test fakes it.</param>
    public DemoClock(DateTimeZone zone, LocalTime start, IClock? wall = null)
    {
        Zone = zone;
        this.wall = wall ?? SystemClock.Instance;
        var now = this.wall.GetCurrentInstant();
        var begin = (now.InZone(zone).Date + start).InZoneLeniently(zone).ToInstant();
        offsetTicks = (begin - now).BclCompatibleTicks;
    }

    public DateTimeZone Zone { get; }

    public Instant GetCurrentInstant() => wall.GetCurrentInstant() + Duration.FromTicks(Interlocked.Read(ref offsetTicks));

    /// <summary>What the house's clocks show now.</summary>
    public ZonedDateTime Now => GetCurrentInstant().InZone(Zone);

    /// <summary>
    /// Moves the clock forward to the next time the house's clocks show <paramref name="time"/>: later today, or
    /// tomorrow if that time has passed. Never backwards: evidence older than what a computer already said counts
    /// as late, and the server would refuse agents' messages stamped before its own clock.
    /// </summary>
    public ZonedDateTime AdvanceTo(LocalTime time)
    {
        var now = Now;
        var target = (now.Date + time).InZoneLeniently(Zone);
        if (target.ToInstant() <= now.ToInstant())
        {
            target = (now.Date.PlusDays(1) + time).InZoneLeniently(Zone);
        }

        Advance(target.ToInstant() - now.ToInstant());
        return target;
    }

    /// <summary>Moves the clock forward by <paramref name="by"/>.</summary>
    public void Advance(Duration by)
    {
        if (by < Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(by), by, "the demo's clock only goes forward");
        }

        Interlocked.Add(ref offsetTicks, by.BclCompatibleTicks);
    }
}
