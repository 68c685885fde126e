using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Maintenance;

/// <summary>
/// Maintenance on the host running alice's VM evacuates it: with alice at a seat, live to the first host that
/// passes the hard rules (her seat, her home host, then her other allowed hosts), never the host in maintenance;
/// with alice away, or no host able to take it, frozen to shared storage to wake where she next sits down.
/// </summary>
public class when_the_vms_host_goes_into_maintenance
{
    private static Scenario ThinClientAliceAt(string seat)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(seat));
        return seat == Basement ? s : s.Given(Agent.SeatReports(ReportState.Completed));
    }

    [Fact]
    public void with_alice_at_another_seat_it_moves_live_to_that_seat()
    {
        var s = ThinClientAliceAt(Imac)
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, Rules.MaintenanceEvacuate), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal("basement goes into maintenance; alice-desktop moves to imac, about 68 s", decision.Reason);
        Assert.Empty(decision.EvidenceIds);
        Assert.Empty(decision.Rejected);
        Assert.Equal((Basement, Imac), (s.The<IncomingRequested>().Source, s.The<IncomingRequested>().Target));
        Assert.Equal(Basement, s.State!.EvacuatedFrom);
        Assert.True(s.The<HouseChanged>().Hosts.Single(h => h.Name == Basement).InMaintenance);
    }

    [Fact]
    public void with_alice_at_the_host_itself_it_moves_to_the_next_allowed_host()
    {
        var s = ThinClientAliceAt(Basement).When(TheHost.GoesIntoMaintenance(Basement));

        Assert.Equal(Imac, s.The<PlacementDecided>().To);
        Assert.NotEqual(Basement, s.The<IncomingRequested>().Target);
    }

    [Fact]
    public void a_seat_that_cannot_take_it_is_passed_over_and_named()
    {
        var s = ThinClientAliceAt(Imac)
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(TheHost.GoesIntoMaintenance(Basement));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Laptop, PlacementMode.LiveMigration), (decision.To, decision.Mode));
        Assert.Equal([new RejectedAlternative(Imac, Rules.FreeMemory, "imac: 3 GiB free, needs 8 GiB")], decision.Rejected);
    }

    [Fact]
    public void with_no_host_able_to_take_it_it_is_frozen_to_shared_storage()
    {
        var s = ThinClientAliceAt(Imac)
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib).Offline(Laptop))
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(SuspendRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.SuspendResume, Rules.MaintenanceEvacuate), (decision.Mode, decision.Rule));
        Assert.Equal("basement goes into maintenance and no other host can take alice-desktop, so it is frozen to shared storage", decision.Reason);
        Assert.Equal([Rules.FreeMemory, Rules.AgentOnline], decision.Rejected.Select(r => r.Rule));
        Assert.Null(s.The<SuspendRequested>().ResumeOn);
    }

    [Fact]
    public void with_alice_away_it_is_frozen_and_waits_for_her()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(SuspendRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, PlacementMode.SuspendResume, Rules.MaintenanceEvacuate), (decision.From, decision.Mode, decision.Rule));
        Assert.Equal(
            "basement goes into maintenance while alice is away, so alice-desktop is frozen to shared storage and wakes where alice next sits down",
            decision.Reason);

        var suspend = s.The<SuspendRequested>();
        Assert.Equal(decision.DecisionId, suspend.DecisionId);
        Assert.Equal((Basement, Vm), (suspend.Host, suspend.Vm));
        Assert.Null(suspend.ResumeOn);
        Assert.StartsWith("o-", suspend.OperationId);
        Assert.Equal($"/var/lib/presence/suspended/{Vm}-{suspend.OperationId}.state", suspend.File);
        Assert.Equal(SessionMode.Moving, s.State!.Mode);
    }

    [Fact]
    public void the_state_file_goes_where_the_house_keeps_them()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { SharedStorage = "/mnt/nas/frozen/" })
            .When(TheHost.GoesIntoMaintenance(Basement));

        Assert.Equal($"/mnt/nas/frozen/{Vm}-{s.The<SuspendRequested>().OperationId}.state", s.The<SuspendRequested>().File);
    }

    [Fact]
    public void maintenance_on_a_host_not_running_the_vm_moves_nothing()
    {
        ThinClientAliceAt(Imac)
            .When(TheHost.GoesIntoMaintenance(Laptop))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void a_host_change_that_is_not_maintenance_moves_nothing()
    {
        ThinClientAliceAt(Imac)
            .When(TheHost.Changed(Basement, h => h.FreeMemory(Basement, 30 * Gib)))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void while_a_move_is_in_flight_it_waits()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void it_does_not_wait_for_quiet_hours_or_approval()
    {
        ThinClientAliceAt(Imac)
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .WithSettings(p => p with { QuietHours = new QuietHours(new LocalTime(17, 0), new LocalTime(7, 0)) })
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void a_manual_user_gets_it_recorded_not_done()
    {
        var s = ThinClientAliceAt(Imac)
            .WithPolicy(p => p.Automation(AutomationLevel.Manual))
            .When(TheHost.GoesIntoMaintenance(Basement))
            .Then(typeof(HouseChanged), typeof(MoveSuppressed))
            .ThenNoCommands();

        Assert.Equal(Rules.ManualLevel, s.The<MoveSuppressed>().Rule);
    }
}
