using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// Every phase of a move has a timeout, scheduled as it starts. When it runs out and the phase is still pending the
/// move fails with its compensation and the reason; once the phase is over, a late timeout changes nothing.
/// </summary>
public class when_a_phase_times_out
{
    private static Scenario WithTimeouts() => Scenario.AliceOnTheBasementServer().WithSettings(p => p with
    {
        PrepareTimeout = Duration.FromSeconds(30),
        MigrationTimeout = Duration.FromSeconds(60),
        SuspendTimeout = Duration.FromMinutes(2),
        ResumeTimeout = Duration.FromMinutes(2),
        DisplayTimeout = Duration.FromSeconds(20),
    });

    private static Scenario Preparing() => WithTimeouts().Given(Alice.LogsInAt(Imac));

    private static Scenario Migrating() => Preparing().Given(Agent.TargetIsReady());

    [Fact]
    public void entering_the_prepare_phase_schedules_its_timeout()
    {
        var s = WithTimeouts().When(Alice.LogsInAt(Imac));

        var timeout = Assert.Single(s.Events.OfType<PhaseTimeoutScheduled>(), t => t.Phase != Phases.Displaying);
        Assert.Equal(s.Pending.Id, timeout.MoveId);
        Assert.Equal(Phases.Preparing, timeout.Phase);
        Assert.Equal(Duration.FromSeconds(30), timeout.Window);
        Assert.Equal(s.Now + Duration.FromSeconds(30), timeout.DueAt);
        var events = s.Events.Select(e => e.GetType()).ToList();
        Assert.Equal(events.IndexOf(typeof(IncomingRequested)) + 1, events.LastIndexOf(typeof(PhaseTimeoutScheduled)));
    }

    [Fact]
    public void without_a_timeout_in_the_policy_none_is_scheduled()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Imac));

        Assert.Empty(s.Events.OfType<PhaseTimeoutScheduled>());
    }

    [Fact]
    public void the_migrate_phase_gets_three_estimates_plus_the_slack()
    {
        var s = Preparing().When(Agent.TargetIsReady()).Then(typeof(IncomingReady), typeof(MigrationRequested), typeof(PhaseTimeoutScheduled));

        var requested = s.The<MigrationRequested>();
        var estimate = UserDecider.EstimateLiveMigration(8 * Gib, requested.MaxBandwidthMbps, null);
        var timeout = s.The<PhaseTimeoutScheduled>();
        Assert.Equal(Phases.Migrating, timeout.Phase);
        Assert.Equal(Math.Ceiling((Duration.FromSeconds(60) + 3 * estimate).TotalSeconds), timeout.Window.TotalSeconds);
    }

    [Fact]
    public void a_target_that_never_gets_ready_fails_the_move_and_is_told_to_stop_waiting()
    {
        var s = Preparing().After(Duration.FromSeconds(30)).When(TheTimeout.RunsOut()).Then(typeof(MigrationFailed));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(Phases.Preparing, failed.Phase);
        Assert.Equal("imac did not answer prepare_incoming within 30 s", failed.Reason);
        Assert.Equal(Basement, failed.StillOn);
        Assert.Equal(
            [
                new CommandToAgent(Imac, failed.CancelPrepareCommandId!, CommandKind.Cancel, Vm, Of: s.InHistory<IncomingRequested>().CommandId),
                new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm),
            ],
            s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Migration);
    }

    [Fact]
    public void a_migration_that_never_ends_is_cancelled_on_the_source_and_aborted_on_the_target()
    {
        var s = Migrating();
        var migrate = s.Pending.MigrateCommandId;

        s.When(TheTimeout.RunsOut()).Then(typeof(MigrationFailed));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(Phases.Migrating, failed.Phase);
        Assert.StartsWith("basement did not finish sending alice-desktop to imac within ", failed.Reason);
        Assert.Equal(
            [
                new CommandToAgent(Basement, failed.CancelCommandId!, CommandKind.Cancel, Vm, Of: migrate),
                new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm),
            ],
            s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void the_prepare_timeout_arriving_after_ready_does_nothing()
    {
        var s = Preparing();
        var prepare = s.State!.Timeout!;

        s.Given(Agent.TargetIsReady()).When(TheTimeout.RunsOut(prepare.MoveId, prepare.Phase)).ThenNothing();
    }

    [Fact]
    public void a_timeout_after_the_move_completed_does_nothing()
    {
        var s = Migrating();
        var timeout = s.State!.Timeout!;

        s.Given(Agent.SourceCompletes()).When(TheTimeout.RunsOut(timeout.MoveId, timeout.Phase)).ThenNothing();
        Assert.Equal(Imac, s.State!.VmHost);
    }

    [Fact]
    public void a_timeout_of_an_earlier_failed_move_does_not_touch_the_next_one()
    {
        var s = Preparing();
        var first = s.State!.Timeout!;
        s.Given(Agent.TargetReports(ReportState.Failed, "no room"), Alice.LogsInAt(KidsPc));

        s.When(TheTimeout.RunsOut(first.MoveId, first.Phase)).ThenNothing();
    }

    [Fact]
    public void a_freeze_that_never_ends_fails_and_the_host_is_told_to_stop()
    {
        var s = WithTimeouts().Given(TheHost.GoesIntoMaintenance(Basement));
        var op = s.State!.Operation!;
        Assert.Equal(Phases.Suspending, s.State.Timeout!.Phase);

        s.When(TheTimeout.RunsOut()).Then(typeof(SuspendFailed));

        var failed = s.The<SuspendFailed>();
        Assert.Equal("basement did not freeze alice-desktop within 2 min", failed.Reason);
        Assert.Equal([new CommandToAgent(Basement, failed.CancelCommandId!, CommandKind.Cancel, Vm, Of: op.CommandId)], s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Suspended);
    }

    [Fact]
    public void a_wake_that_never_ends_fails_the_vm_stays_frozen_and_the_host_is_told_not_to_start_it()
    {
        var s = WithTimeouts()
            .Given(TheHost.GoesIntoMaintenance(Basement), Agent.OperationReports(ReportState.Completed), Alice.LogsInAt(Imac));
        var op = s.State!.Operation!;
        Assert.Equal(Phases.Resuming, s.State.Timeout!.Phase);

        s.When(TheTimeout.RunsOut());

        var failed = s.The<ResumeFailed>();
        Assert.Equal($"imac did not wake alice-desktop from {op.File} within 2 min", failed.Reason);
        Assert.Contains(new CommandToAgent(Imac, failed.CancelCommandId!, CommandKind.Cancel, Vm, Of: op.CommandId), s.Commands);
        Assert.NotNull(s.State!.Suspended);
        Assert.Null(s.State.VmHost);
    }

    [Fact]
    public void a_seat_that_never_shows_the_vm_fails_the_attach()
    {
        var s = WithTimeouts().WithPolicy(p => p.Prefers(PreferredMode.ThinClient)).Given(Alice.LogsInAt(Imac));
        Assert.Equal(Phases.Displaying, s.State!.Timeout!.Phase);

        s.When(TheTimeout.RunsOut()).Then(typeof(DisplayAttachFailed));

        Assert.Equal("imac did not show alice-desktop within 20 s", s.The<DisplayAttachFailed>().Reason);
        Assert.Null(s.State!.PendingDisplay);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void a_made_up_timeout_does_nothing()
    {
        Migrating().When(TheTimeout.RunsOut("m-nonsense", Phases.Migrating)).ThenNothing();
    }

    [Fact]
    public void a_send_that_finished_though_its_answer_was_lost_is_found_by_the_inventories()
    {
        var s = Migrating().Given(TheTimeout.RunsOut());
        Assert.Equal(Basement, s.State!.VmHost);

        // The cancel came too late: the basement reports the VM gone, the iMac runs it.
        s.When(TheHost.Changed(Imac, h => h.VmRunsOn(Imac)));

        Assert.Equal(Imac, s.State!.VmHost);
    }
}
