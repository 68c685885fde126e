using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// A freeze may already name where the VM wakes (ResumeOn). The decision was made when it was frozen: as soon as
/// that host can take it — seen with any input — the resume follows without a new decision.
/// </summary>
public class when_a_frozen_vm_waits_for_its_target
{
    private const string File = "/var/lib/presence/suspended/alice-desktop-o-1.state";

    /// <summary>Upstairs (the iMac) is freezing the VM to wake downstairs on the laptop, whose agent is away.</summary>
    private static Scenario FreezingForTheLaptop() => Scenario.AliceOnTheBasementServer()
        .WithHouse(h => h.VmRunsOn(Imac).Offline(Laptop))
        .Given(new SuspendRequested(AliceName, "o-1", "d-1", Vm, Imac, File, Laptop, "c-suspend", Scenario.Start));

    [Fact]
    public void frozen_while_the_target_is_away_it_waits()
    {
        var s = FreezingForTheLaptop()
            .When(Agent.OperationReports(ReportState.Completed))
            .Then(typeof(HouseChanged), typeof(VmSuspended))
            .ThenNoCommands();

        Assert.Equal(Laptop, s.The<VmSuspended>().ResumeOn);
        Assert.Equal(Laptop, s.State!.Suspended!.ResumeOn);
    }

    [Fact]
    public void when_the_targets_agent_comes_back_it_wakes_there_without_a_new_decision()
    {
        var s = FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .When(TheHost.AgentComesOnline(Laptop))
            .Then(typeof(HouseChanged), typeof(ResumeRequested));

        var resume = s.The<ResumeRequested>();
        Assert.Equal((Laptop, Vm, File), (resume.Host, resume.Vm, resume.File));
        Assert.Equal(PendingOperation.Resume, s.State!.Operation!.Kind);
        var command = Assert.Single(s.Commands);
        Assert.Equal(new CommandToAgent(Laptop, resume.CommandId, CommandKind.Resume, Vm, From: File), command);
    }

    [Fact]
    public void any_input_that_shows_the_target_up_will_do()
    {
        FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .WithHouse(h => h.Online(Laptop))
            .When(Alice.IsIdleAt(Basement, Duration.FromMinutes(1)))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(ResumeRequested));
    }

    [Fact]
    public void with_the_target_already_up_it_wakes_as_soon_as_it_is_frozen()
    {
        FreezingForTheLaptop()
            .WithHouse(h => h.Online(Laptop))
            .When(Agent.OperationReports(ReportState.Completed))
            .Then(typeof(HouseChanged), typeof(VmSuspended), typeof(ResumeRequested));
    }

    [Fact]
    public void nothing_wakes_while_it_is_still_being_frozen()
    {
        FreezingForTheLaptop()
            .When(TheHost.AgentComesOnline(Laptop))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void another_host_coming_back_does_not_wake_it()
    {
        FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .When(TheHost.AgentGoesOffline(KidsPc))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void woken_it_runs_on_the_target()
    {
        var s = FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed), TheHost.AgentComesOnline(Laptop))
            .When(Agent.OperationReports(ReportState.Completed))
            .Then(typeof(VmResumed));

        Assert.Equal(Laptop, s.State!.VmHost);
        Assert.Null(s.State.Suspended);
    }

    [Fact]
    public void a_target_that_came_back_in_maintenance_is_not_used()
    {
        FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .When(TheHost.Changed(Laptop, h => h.Online(Laptop).InMaintenance(Laptop)))
            .Then(typeof(HouseChanged))
            .ThenNoCommands();
    }

    [Fact]
    public void a_target_that_came_back_without_room_is_not_used()
    {
        FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .When(TheHost.Changed(Laptop, h => h.Online(Laptop).FreeMemory(Laptop, 2 * Gib)))
            .Then(typeof(HouseChanged))
            .ThenNoCommands();
    }

    [Fact]
    public void a_failed_wake_on_the_target_is_not_retried_at_once()
    {
        // Retrying in the same breath would send resume after resume to a host that just said it cannot.
        var s = FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed), TheHost.AgentComesOnline(Laptop))
            .When(Agent.OperationReports(ReportState.Failed, "state file unreadable"))
            .Then(typeof(ResumeFailed))
            .ThenNoCommands();

        Assert.NotNull(s.State!.Suspended);
        Assert.Null(s.State.Operation);

        s.When(Alice.LogsInAt(Imac)).Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(ResumeRequested));
        Assert.Equal(Imac, s.The<ResumeRequested>().Host);
    }

    [Fact]
    public void sitting_down_elsewhere_first_wakes_it_at_the_seat()
    {
        var s = FreezingForTheLaptop()
            .Given(Agent.OperationReports(ReportState.Completed))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(ResumeRequested));

        Assert.Equal(Imac, s.The<ResumeRequested>().Host);
    }
}
