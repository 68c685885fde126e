using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Maintenance;

/// <summary>
/// A VM that maintenance moved away live goes back when the host leaves maintenance (maintenance_return). A frozen
/// one wakes where alice sits down instead, and once it is running elsewhere the old host has no claim on it.
/// </summary>
public class when_maintenance_ends
{
    private static Scenario EvacuatedToTheImac() => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
        .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed), TheHost.GoesIntoMaintenance(Basement),
            Agent.TargetIsReady(), Agent.SourceCompletes())
        .WithHouse(h => h.VmRunsOn(Imac));

    [Fact]
    public void a_vm_moved_away_live_goes_back()
    {
        var s = EvacuatedToTheImac()
            .When(TheHost.LeavesMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Imac, Basement, PlacementMode.LiveMigration, Rules.MaintenanceReturn), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal(
            "basement is out of maintenance, so alice-desktop goes back where it ran before; alice-desktop (8 GiB) moves from imac to basement, about 9 s",
            decision.Reason);
        Assert.Null(s.State!.EvacuatedFrom);
    }

    [Fact]
    public void once_back_another_host_change_moves_nothing()
    {
        EvacuatedToTheImac()
            .Given(TheHost.LeavesMaintenance(Basement), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Basement))
            .When(TheHost.Changed(Basement))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void while_still_in_maintenance_other_changes_of_that_host_move_nothing()
    {
        var s = EvacuatedToTheImac()
            .When(TheHost.Changed(Basement, h => h.FreeMemory(Basement, 50 * Gib)))
            .Then(typeof(HouseChanged), typeof(DisplayAttachRequested));

        // Nothing moves; the seat that showed the VM from the basement switches to it running on the iMac.
        Assert.StartsWith("alice-desktop runs on imac now", s.The<DisplayAttachRequested>().Reason);
    }

    [Fact]
    public void a_failed_evacuation_leaves_nothing_to_bring_back()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed), TheHost.GoesIntoMaintenance(Basement),
                Agent.TargetReports(ReportState.Failed, "no room"))
            .When(TheHost.LeavesMaintenance(Basement))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void a_frozen_vm_is_not_woken_by_the_end_of_maintenance()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(TheHost.GoesIntoMaintenance(Basement), Agent.OperationReports(ReportState.Completed))
            .When(TheHost.LeavesMaintenance(Basement))
            .Then(typeof(HouseChanged))
            .ThenNoCommands();
    }

    [Fact]
    public void once_a_frozen_vm_woke_elsewhere_the_old_host_does_not_take_it_back()
    {
        // Frozen in the evening, woken on the iMac the next morning: the basement's agent reconnecting later is
        // no reason to pull the VM away from under her.
        var s = Scenario.AliceOnTheBasementServer()
            .Given(TheHost.GoesIntoMaintenance(Basement), Agent.OperationReports(ReportState.Completed),
                TheHost.LeavesMaintenance(Basement), Alice.LogsInAt(Imac), Agent.OperationReports(ReportState.Completed))
            .WithHouse(h => h.VmRunsOn(Imac));
        Assert.Equal(Imac, s.State!.VmHost);

        s.When(TheHost.AgentComesOnline(Basement))
            .Then(typeof(HouseChanged))
            .ThenNoCommands();
    }

    [Fact]
    public void once_she_moved_it_on_herself_the_old_host_does_not_take_it_back()
    {
        EvacuatedToTheImac()
            .Given(Alice.AsksToMoveTo(Laptop), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Laptop))
            .When(TheHost.LeavesMaintenance(Basement))
            .Then(typeof(HouseChanged))
            .ThenNoCommands();
    }
}
