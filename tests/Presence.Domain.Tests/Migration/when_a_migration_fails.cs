using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>A VM runs on exactly one host: after a failed move it still runs where it was, and the target stops waiting.</summary>
public class when_a_migration_fails
{
    private static Scenario Preparing() => Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac));

    private static Scenario Migrating() => Preparing().Given(Agent.TargetIsReady());

    [Theory]
    [InlineData(ReportState.Failed, "no room for 8 GiB", "imac could not prepare to receive alice-desktop: no room for 8 GiB")]
    [InlineData(ReportState.Cancelled, null, "imac could not prepare to receive alice-desktop: cancelled")]
    [InlineData(ReportState.Failed, null, "imac could not prepare to receive alice-desktop: failed")]
    public void while_the_target_prepares_the_vm_stays_on_the_source(ReportState state, string? error, string reason)
    {
        var s = Preparing();
        var migrationId = s.Pending.Id;

        s.When(Agent.TargetReports(state, error)).Then(typeof(MigrationFailed));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(migrationId, failed.MigrationId);
        Assert.Equal(Vm, failed.Vm);
        Assert.Equal(Phases.Preparing, failed.Phase);
        Assert.Equal(reason, failed.Reason);
        Assert.Equal(Basement, failed.StillOn);
        Assert.Equal(Imac, failed.Target);
        Assert.NotNull(failed.AbortCommandId);
        Assert.Equal(s.Now, failed.At);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Migration);
    }

    [Theory]
    [InlineData(ReportState.Failed, "migration aborted: socket closed", "basement could not send alice-desktop to imac: migration aborted: socket closed")]
    [InlineData(ReportState.Cancelled, null, "basement could not send alice-desktop to imac: cancelled")]
    public void while_the_source_sends_the_vm_stays_on_the_source(ReportState state, string? error, string reason)
    {
        var s = Migrating()
            .When(Agent.SourceReports(state, r => r with { Error = error }))
            .Then(typeof(MigrationFailed));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(Phases.Migrating, failed.Phase);
        Assert.Equal(reason, failed.Reason);
        Assert.Equal(Basement, failed.StillOn);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Migration);
    }

    [Fact]
    public void the_target_is_told_to_stop_waiting()
    {
        var s = Migrating().When(Agent.SourceFails("boom"));

        var failed = s.The<MigrationFailed>();
        var abort = Assert.Single(AgentCommands.For(failed));
        Assert.Equal(new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm), abort);
        Assert.NotEqual(s.History.OfType<IncomingRequested>().Single().CommandId, abort.CommandId);
    }

    [Fact]
    public void a_failure_after_progress_still_leaves_the_vm_on_the_source()
    {
        var s = Migrating()
            .Given(Agent.SourceProgress(100, 10))
            .When(Agent.SourceFails("downtime limit exceeded"));

        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Equal(SessionMode.ThinClient, s.State.Mode);
    }

    [Fact]
    public void the_next_seat_change_may_try_again()
    {
        Migrating()
            .Given(Agent.SourceFails("boom"))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }
}
