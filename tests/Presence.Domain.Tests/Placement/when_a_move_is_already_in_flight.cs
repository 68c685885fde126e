using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

public class when_a_move_is_already_in_flight
{
    [Fact]
    public void another_seat_change_while_the_target_prepares_is_suppressed()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        var suppressed = s.The<MoveSuppressed>();
        var moving = s.Pending;
        Assert.Equal(Rules.OneMoveAtATime, suppressed.Rule);
        Assert.Equal(Laptop, suppressed.Wanted);
        Assert.Equal(["ev-2"], suppressed.EvidenceIds);
        Assert.Equal($"alice-desktop is already moving from basement to imac ({moving.Id}); one move at a time", suppressed.Reason);
        Assert.Equal(Imac, moving.Target);
        Assert.Equal(Laptop, s.State!.Seat);
    }

    [Fact]
    public void another_seat_change_while_the_source_sends_is_suppressed()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady())
            .When(Alice.LogsInAt(Basement));

        Assert.Equal(Rules.OneMoveAtATime, s.The<MoveSuppressed>().Rule);
        Assert.Equal(Phases.Migrating, s.Pending.Phase);
    }

    [Fact]
    public void once_the_move_is_over_the_next_seat_change_moves_it_again()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes())
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(IncomingRequested));

        Assert.Equal(Imac, s.The<IncomingRequested>().Source);
        Assert.Equal(Laptop, s.The<IncomingRequested>().Target);
    }
}
