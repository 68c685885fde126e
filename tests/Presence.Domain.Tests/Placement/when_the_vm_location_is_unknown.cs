using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

public class when_the_vm_location_is_unknown
{
    [Fact]
    public void there_is_nothing_to_move_yet_and_that_is_recorded()
    {
        var s = Scenario.NewStream()
            .WithHouse(h => h.VmRunsOn())
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(UserEnrolled), typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.VmLocationUnknown, suppressed.Rule);
        Assert.Equal(Imac, suppressed.Wanted);
        Assert.Equal("no agent reports alice-desktop running, so there is nothing to move yet", suppressed.Reason);
        Assert.Empty(suppressed.Rejected);
    }

    [Fact]
    public void a_paused_vm_counts_as_running_but_a_suspended_one_does_not()
    {
        var paused = Scenario.NewStream()
            .WithHouse(h => h.Change(Basement, f => f with { Vms = [Running() with { State = VmRunState.Paused }] }))
            .When(Alice.LogsInAt(Imac));
        var suspended = Scenario.NewStream()
            .WithHouse(h => h.Change(Basement, f => f with { Vms = [Running() with { State = VmRunState.Suspended }] }))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Basement, paused.The<IncomingRequested>().Source);
        Assert.Equal(Rules.VmLocationUnknown, suspended.The<MoveSuppressed>().Rule);
    }
}
