using NodaTime;
using NodaTime.Testing;
using Presence.Server.Demo;

namespace Presence.Server.Tests.Demo;

/// <summary>The demo's house clock: whenever the demo is played, the story's day starts at the same time in the house's zone.</summary>
public sealed class the_demo_clock
{
    private static readonly DateTimeZone Berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];

    // 21:10 UTC is 22:10 in Berlin on 4 March: played late in the evening, the story still starts in the morning.
    private readonly FakeClock wall = new(Instant.FromUtc(2025, 3, 4, 21, 10));

    [Fact]
    public void starts_at_the_given_time_of_today_in_the_house_zone()
    {
        var clock = new DemoClock(Berlin, new LocalTime(7, 30), wall);

        Assert.Equal(new LocalDateTime(2025, 3, 4, 7, 30), clock.Now.LocalDateTime);
    }

    [Fact]
    public void runs_at_real_speed()
    {
        var clock = new DemoClock(Berlin, new LocalTime(7, 30), wall);

        wall.Advance(Duration.FromSeconds(42));

        Assert.Equal(new LocalDateTime(2025, 3, 4, 7, 30, 42), clock.Now.LocalDateTime);
    }

    [Fact]
    public void advancing_to_a_later_time_stays_on_the_same_day_and_keeps_running()
    {
        var clock = new DemoClock(Berlin, new LocalTime(7, 30), wall);

        var evening = clock.AdvanceTo(new LocalTime(22, 30));
        wall.Advance(Duration.FromSeconds(5));

        Assert.Equal(new LocalDateTime(2025, 3, 4, 22, 30), evening.LocalDateTime);
        Assert.Equal(new LocalDateTime(2025, 3, 4, 22, 30, 5), clock.Now.LocalDateTime);
    }

    [Fact]
    public void advancing_to_an_earlier_time_goes_to_the_next_morning()
    {
        var clock = new DemoClock(Berlin, new LocalTime(7, 30), wall);
        clock.AdvanceTo(new LocalTime(22, 30));

        var morning = clock.AdvanceTo(new LocalTime(7, 45));

        Assert.Equal(new LocalDateTime(2025, 3, 5, 7, 45), morning.LocalDateTime);
        Assert.Equal(morning.ToInstant(), clock.GetCurrentInstant());
    }

    [Fact]
    public void it_never_goes_backwards()
    {
        var clock = new DemoClock(Berlin, new LocalTime(7, 30), wall);

        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(Duration.FromMinutes(-1)));
    }
}
