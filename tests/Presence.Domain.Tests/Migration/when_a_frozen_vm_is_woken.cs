using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// Freeze upstairs, retrieve downstairs: a frozen VM wakes at the seat alice next sits down at, if that host passes
/// the hard rules. Waking may fail; the VM then stays frozen in its state file for another try.
/// </summary>
public class when_a_frozen_vm_is_woken
{
    private static Scenario Frozen() => Scenario.AliceOnTheBasementServer()
        .Given(TheHost.GoesIntoMaintenance(Basement), Agent.OperationReports(ReportState.Completed));

    [Fact]
    public void sitting_down_wakes_it_at_the_seat()
    {
        var s = Frozen();
        var file = s.State!.Suspended!.File;

        s.When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(ResumeRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Imac, PlacementMode.Resume, Rules.ResumeAtSeat), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal("alice sat down at imac; alice-desktop was frozen on basement and wakes on imac", decision.Reason);
        Assert.Equal(["ev-1"], decision.EvidenceIds);

        var resume = s.The<ResumeRequested>();
        Assert.Equal((Imac, Vm, file), (resume.Host, resume.Vm, resume.File));
        Assert.StartsWith("o-", resume.OperationId);
        Assert.Equal(PendingOperation.Resume, s.State!.Operation!.Kind);
        Assert.Equal(SessionMode.Moving, s.State.Mode);
    }

    [Fact]
    public void completed_it_runs_at_the_seat()
    {
        var s = Frozen()
            .Given(Alice.LogsInAt(Imac))
            .When(Agent.OperationReports(ReportState.Completed))
            .Then(typeof(VmResumed));

        Assert.Equal(Imac, s.The<VmResumed>().Host);
        Assert.Equal(Imac, s.State!.VmHost);
        Assert.Null(s.State.Suspended);
        Assert.Null(s.State.Operation);
        Assert.Equal(SessionMode.Local, s.State.Mode);
    }

    [Fact]
    public void failed_it_stays_frozen()
    {
        var s = Frozen();
        var frozen = s.State!.Suspended!;

        s.Given(Alice.LogsInAt(Imac))
            .When(Agent.OperationReports(ReportState.Failed, "no kvm"))
            .Then(typeof(ResumeFailed))
            .ThenNoCommands();

        Assert.Equal($"imac could not wake alice-desktop from {frozen.File}: no kvm", s.The<ResumeFailed>().Reason);
        Assert.Null(s.State!.VmHost);
        Assert.Equal(frozen, s.State.Suspended);
        Assert.Equal(SessionMode.Suspended, s.State.Mode);
    }

    [Fact]
    public void after_a_failed_wake_the_next_seat_tries_again()
    {
        var s = Frozen()
            .Given(Alice.LogsInAt(Imac), Agent.OperationReports(ReportState.Failed, "no kvm"))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(ResumeRequested));

        Assert.Equal(Laptop, s.The<ResumeRequested>().Host);
    }

    [Fact]
    public void a_seat_that_cannot_run_it_leaves_it_frozen_and_says_why()
    {
        var s = Frozen()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed))
            .ThenNoCommands();

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.FreeMemory, suppressed.Rule);
        Assert.Equal("alice sat down at imac; alice-desktop is frozen (from basement) but cannot wake there: imac: 3 GiB free, needs 8 GiB", suppressed.Reason);
    }

    [Fact]
    public void a_move_request_wakes_it_where_asked()
    {
        var s = Frozen().When(Alice.AsksToMoveTo(Laptop)).Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(ResumeRequested));

        Assert.Equal((PlacementMode.Resume, Rules.RequestMove), (s.The<PlacementDecided>().Mode, s.The<PlacementDecided>().Rule));
        Assert.Equal(Laptop, s.The<ResumeRequested>().Host);
    }

    [Fact]
    public void it_may_wake_on_the_host_it_was_frozen_on_once_that_is_back()
    {
        var s = Frozen()
            .WithHouse(h => h.InMaintenance(Basement, on: false))
            .When(Alice.LogsInAt(Basement));

        Assert.Equal(Basement, s.The<ResumeRequested>().Host);
    }

    [Fact]
    public void a_recommend_user_is_asked_first()
    {
        var s = Frozen()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementProposed))
            .ThenNoCommands();

        Assert.Equal(PlacementMode.Resume, s.The<PlacementProposed>().Mode);

        s.When(Alice.ApprovesTheProposal()).Then(typeof(SignalRecorded), typeof(ProposalAnswered), typeof(PlacementDecided), typeof(ResumeRequested));
    }
}
