using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

public class when_a_user_logs_out_or_locks
{
    [Theory]
    [InlineData("logout")]
    [InlineData("lock")]
    public void at_the_seat_she_holds_she_is_at_no_seat_and_nothing_moves(string state)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.Session(Basement, state))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        var seat = s.The<SeatChanged>();
        Assert.Null(seat.Seat);
        Assert.Equal(Basement, seat.PreviousSeat);
        Assert.Equal(["ev-2"], seat.EvidenceIds);
        Assert.Null(s.State!.Seat);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Theory]
    [InlineData("logout")]
    [InlineData("lock")]
    public void at_another_host_she_keeps_her_seat(string state)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.Session(Imac, state))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Basement, s.State!.Seat);
    }

    [Fact]
    public void with_no_seat_at_all_only_the_evidence_is_recorded()
    {
        Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsOutAt(Imac))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void leaving_a_seat_does_not_interrupt_a_move_to_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.LocksAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Equal(Phases.Preparing, s.Pending.Phase);
    }

    [Fact]
    public void logging_in_again_seats_her_again()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement), Alice.LogsOutAt(Basement))
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Null(s.The<SeatChanged>().PreviousSeat);
    }
}
