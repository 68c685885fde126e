using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>Idle at her seat for IdleAway or longer and alice counts as gone from it; idle elsewhere says nothing.</summary>
public class when_the_user_idles
{
    private static readonly Duration Away = Duration.FromMinutes(10);

    private static Scenario SeatedAtTheBasement() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { IdleAway = Away })
        .Given(Alice.LogsInAt(Basement));

    [Fact]
    public void idle_long_enough_at_her_seat_takes_her_off_it()
    {
        var s = SeatedAtTheBasement()
            .When(Alice.IsIdleAt(Basement, Away))
            .Then(typeof(SignalRecorded), typeof(SeatChanged))
            .ThenNoCommands();

        var seat = s.The<SeatChanged>();
        Assert.Null(seat.Seat);
        Assert.Equal(Basement, seat.PreviousSeat);
        Assert.Equal(0.7, seat.Confidence);
        Assert.Equal(["ev-2"], seat.EvidenceIds);
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void a_little_less_idle_changes_nothing()
    {
        SeatedAtTheBasement()
            .When(Alice.IsIdleAt(Basement, Away - Duration.FromSeconds(1)))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void idle_at_another_host_changes_nothing()
    {
        SeatedAtTheBasement()
            .When(Alice.IsIdleAt(Imac, Duration.FromHours(2)))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void without_an_idle_threshold_idling_is_never_leaving()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.IsIdleAt(Basement, Duration.FromHours(8)))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void idle_with_no_seat_changes_nothing()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { IdleAway = Away })
            .When(Alice.IsIdleAt(Basement, Duration.FromHours(1)))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void activity_afterwards_seats_her_again()
    {
        var s = SeatedAtTheBasement()
            .Given(Alice.IsIdleAt(Basement, Away))
            .When(Alice.IsActiveAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Equal(Basement, s.State!.Seat);
    }

    [Fact]
    public void going_idle_during_a_hold_down_lets_the_wait_lapse()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { IdleAway = Away, HoldDown = new HoldDowns(Duration.Zero, Duration.FromMinutes(15), Duration.Zero) })
            .Given(Alice.LogsInAt(Imac), Alice.IsIdleAt(Imac, Away))
            .When(TheWait.RunsOut())
            .Then(typeof(SettlingLapsed));
    }
}
