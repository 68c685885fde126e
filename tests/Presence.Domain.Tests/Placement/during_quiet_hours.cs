using System.Globalization;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Quiet hours are wall-clock hours in the house's time zone (NodaTime's tz database), summer time included, and
/// may span midnight. Inside them a seat change shows the VM instead of moving it and records why; a person's
/// explicit request still moves it.
/// </summary>
public class during_quiet_hours
{
    private static Scenario InBerlin() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { TimeZone = Berlin, QuietHours = new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)) });

    public static TheoryData<string, string> Inside => new()
    {
        // UTC instant (the input arrives a second later)   what the clock on the wall says in Berlin
        { "2026-01-15T21:30:00Z", "22:30" }, // winter, UTC+1: 21:30 UTC would be outside in UTC
        { "2026-07-15T20:30:00Z", "22:30" }, // summer, UTC+2: 20:30 UTC is 21:30 at UTC+1, outside
        { "2026-01-16T02:00:00Z", "03:00" }, // after midnight
        { "2026-07-16T04:59:00Z", "06:59" }, // summer morning, just before the end
    };

    public static TheoryData<string> Outside => new()
    {
        "2026-01-15T06:30:00Z", // 07:30 in winter: 06:30 UTC would be inside in UTC
        "2026-07-15T05:30:00Z", // 07:30 in summer: at UTC+1 it would still be 06:30, inside
        "2026-07-15T19:30:00Z", // 21:30 in summer
        "2026-01-15T20:58:00Z", // 21:58 in winter
    };

    [Theory]
    [MemberData(nameof(Inside))]
    public void inside_them_the_move_is_suppressed_and_the_seat_shows_the_vm(string utc, string wallClock)
    {
        var s = InBerlin()
            .At(InstantOf(utc))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.QuietHours, suppressed.Rule);
        Assert.Equal(
            $"alice sat down at imac; it is {wallClock}, within the house's quiet hours 22:00–07:00, when VMs are not moved across the network",
            suppressed.Reason);
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (s.The<PlacementDecided>().Mode, s.The<PlacementDecided>().Rule));
        Assert.Equal(Imac, s.The<DisplayAttachRequested>().Host);
    }

    [Theory]
    [MemberData(nameof(Outside))]
    public void outside_them_it_moves(string utc)
    {
        InBerlin()
            .At(InstantOf(utc))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void a_window_within_one_day_works_too()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { TimeZone = Berlin, QuietHours = new QuietHours(new LocalTime(12, 0), new LocalTime(14, 0)) })
            .At(InstantOf("2026-01-15T12:15:00Z"));

        s.When(Alice.LogsInAt(Imac));
        Assert.Equal(Rules.QuietHours, s.The<MoveSuppressed>().Rule);

        s.At(InstantOf("2026-01-15T13:00:00Z")).When(Alice.LogsInAt(Laptop));
        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void a_move_request_still_moves()
    {
        var s = InBerlin()
            .At(InstantOf("2026-01-15T23:00:00Z"))
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.Equal(Rules.RequestMove, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void without_quiet_hours_the_night_is_like_the_day()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { TimeZone = Berlin })
            .At(InstantOf("2026-01-16T02:00:00Z"))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Theory]
    [InlineData("fi-FI")]
    [InlineData("de-DE")]
    [InlineData("en-US")]
    public void the_reason_reads_the_same_in_every_culture(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            var s = InBerlin().At(InstantOf("2026-01-15T21:30:00Z")).When(Alice.LogsInAt(Imac));

            Assert.Equal(
                "alice sat down at imac; it is 22:30, within the house's quiet hours 22:00–07:00, when VMs are not moved across the network",
                s.The<MoveSuppressed>().Reason);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    private static Instant InstantOf(string utc) => NodaTime.Text.InstantPattern.General.Parse(utc).Value;
}
