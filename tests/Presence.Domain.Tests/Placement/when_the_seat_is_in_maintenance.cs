using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>Hard rule host_in_maintenance: a host in maintenance takes no VM, but its screen can still show one.</summary>
public class when_the_seat_is_in_maintenance
{
    [Fact]
    public void a_seat_in_maintenance_only_shows_the_vm()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.InMaintenance(Imac))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (decision.Mode, decision.Rule));
        Assert.Equal([new RejectedAlternative(Imac, Rules.InMaintenance, "imac: in maintenance")], decision.Rejected);
        Assert.Equal(
            "alice sat down at imac; alice-desktop cannot run on imac (imac: in maintenance), so imac shows it while it keeps running on basement",
            decision.Reason);
    }

    [Fact]
    public void once_maintenance_is_over_the_seat_takes_it_again()
    {
        Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.InMaintenance(Imac))
            .Given(Alice.LogsInAt(Imac), Alice.LogsOutAt(Imac))
            .WithHouse(h => h.InMaintenance(Imac, on: false))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }
}
