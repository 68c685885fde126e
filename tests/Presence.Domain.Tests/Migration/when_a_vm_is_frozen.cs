using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// Freezing (suspend to shared storage): while the host writes the state file the VM is moving; once written it runs
/// nowhere, and if writing fails it still runs where it was. Answers for other commands or hosts change nothing.
/// </summary>
public class when_a_vm_is_frozen
{
    /// <summary>alice is away and the basement goes into maintenance: her VM is being frozen there.</summary>
    private static Scenario Freezing() => Scenario.AliceOnTheBasementServer().Given(TheHost.GoesIntoMaintenance(Basement));

    [Fact]
    public void the_saga_waits_for_the_host_to_write_the_state()
    {
        var s = Freezing();
        var suspend = s.InHistory<SuspendRequested>();

        Assert.Equal(
            new PendingOperation(suspend.OperationId, PendingOperation.Suspend, Vm, Basement, suspend.File, suspend.CommandId, null, suspend.At),
            s.State!.Operation);
        Assert.Equal(SessionMode.Moving, s.State.Mode);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void completed_the_vm_is_frozen_and_runs_nowhere()
    {
        var s = Freezing();
        var suspend = s.InHistory<SuspendRequested>();

        s.When(Agent.OperationReports(ReportState.Completed)).Then(typeof(VmSuspended));

        var frozen = s.The<VmSuspended>();
        Assert.Equal((suspend.OperationId, Vm, Basement, suspend.File, (string?)null), (frozen.OperationId, frozen.Vm, frozen.Host, frozen.File, frozen.ResumeOn));
        Assert.Equal(s.Now, frozen.At);
        Assert.Null(s.State!.VmHost);
        Assert.Null(s.State.Operation);
        Assert.Equal(new SuspendedVm(suspend.File, Basement, null, s.Now), s.State.Suspended);
        Assert.Equal(SessionMode.Suspended, s.State.Mode);
    }

    [Theory]
    [InlineData(ReportState.Failed, "disk full", "basement could not freeze alice-desktop: disk full")]
    [InlineData(ReportState.Cancelled, null, "basement could not freeze alice-desktop: cancelled")]
    public void failed_the_vm_still_runs_where_it_was(ReportState state, string? error, string reason)
    {
        var s = Freezing().When(Agent.OperationReports(state, error)).Then(typeof(SuspendFailed));

        var failed = s.The<SuspendFailed>();
        Assert.Equal((Basement, reason), (failed.Host, failed.Reason));
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Operation);
        Assert.Null(s.State.Suspended);
    }

    [Theory]
    [InlineData(ReportState.Accepted)]
    [InlineData(ReportState.Progress)]
    public void intermediate_answers_change_nothing(ReportState state)
    {
        Freezing().When(Agent.OperationReports(state)).ThenNothing();
    }

    [Fact]
    public void an_answer_from_another_host_changes_nothing()
    {
        var s = Freezing();
        s.When(Agent.Reports(Imac, s.State!.Operation!.CommandId, ReportState.Completed)).ThenNothing();
        Assert.NotNull(s.State!.Operation);
    }

    [Fact]
    public void an_answer_to_another_command_changes_nothing()
    {
        Freezing().When(Agent.Reports(Basement, "c-other", ReportState.Completed)).ThenNothing();
    }

    [Fact]
    public void a_second_completed_changes_nothing()
    {
        var s = Freezing();
        var command = s.State!.Operation!.CommandId;

        s.Given(Agent.OperationReports(ReportState.Completed))
            .When(Agent.Reports(Basement, command, ReportState.Completed))
            .ThenNothing();
    }

    [Fact]
    public void a_seat_change_while_freezing_waits_its_turn()
    {
        var s = Freezing().When(Alice.LogsInAt(Imac)).Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        Assert.Equal(Rules.OneMoveAtATime, s.The<MoveSuppressed>().Rule);
        Assert.Equal($"alice-desktop is being frozen on basement ({s.State!.Operation!.Id}); one move at a time", s.The<MoveSuppressed>().Reason);
    }

    [Fact]
    public void inventories_while_frozen_do_not_put_it_anywhere()
    {
        var s = Freezing()
            .Given(Agent.OperationReports(ReportState.Completed))
            .WithHouse(h => h.VmRunsOn(Basement)) // a stale inventory still listing it
            .When(Alice.IsActiveAt(Imac));

        Assert.Null(s.State!.VmHost);
        Assert.NotNull(s.State.Suspended);
    }
}
