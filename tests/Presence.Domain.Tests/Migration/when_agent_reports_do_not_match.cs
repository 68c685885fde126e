using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// Agents repeat themselves, answer late, answer out of order, and sometimes answer for someone else. The saga alone
/// decides whether an answer still matters; one that does not changes nothing.
/// </summary>
public class when_agent_reports_do_not_match
{
    private static Scenario Preparing() => Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac));

    private static Scenario Migrating() => Preparing().Given(Agent.TargetIsReady());

    public static TheoryData<ReportState> EveryState => new(Enum.GetValues<ReportState>());

    [Theory]
    [MemberData(nameof(EveryState))]
    public void a_command_id_we_never_sent_changes_nothing_while_preparing(ReportState state)
    {
        Preparing()
            .When(Agent.Reports(Imac, Guid.NewGuid().ToString(), state, r => r with { IncomingUri = Agent.IncomingUri }))
            .ThenNothing();
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void a_command_id_we_never_sent_changes_nothing_while_migrating(ReportState state)
    {
        Migrating()
            .When(Agent.Reports(Basement, Guid.NewGuid().ToString(), state))
            .ThenNothing();
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void a_report_with_no_move_in_flight_changes_nothing(ReportState state)
    {
        Scenario.AliceOnTheBasementServer()
            .When(Agent.Reports(Imac, "cmd-1", state, r => r with { IncomingUri = Agent.IncomingUri }))
            .ThenNothing();
    }

    [Theory]
    [InlineData(Basement)]
    [InlineData(Laptop)]
    public void the_prepare_command_answered_from_another_host_changes_nothing(string host)
    {
        var s = Preparing();
        s.When(Agent.Reports(host, s.Pending.PrepareCommandId, ReportState.Ready, r => r with { IncomingUri = Agent.IncomingUri }))
            .ThenNothing();
        s.When(Agent.Reports(host, s.Pending.PrepareCommandId, ReportState.Failed)).ThenNothing();

        Assert.Equal(Phases.Preparing, s.Pending.Phase);
    }

    [Theory]
    [InlineData(ReportState.Completed)]
    [InlineData(ReportState.Failed)]
    public void the_migrate_command_answered_from_the_target_changes_nothing(ReportState state)
    {
        var s = Migrating();
        s.When(Agent.Reports(Imac, s.Pending.MigrateCommandId!, state)).ThenNothing();

        Assert.Equal(Phases.Migrating, s.Pending.Phase);
    }

    [Fact]
    public void completed_before_ready_changes_nothing_and_ready_still_counts()
    {
        var s = Preparing()
            .When(Agent.TargetReports(ReportState.Completed))
            .ThenNothing();

        s.When(Agent.TargetIsReady()).Then(typeof(IncomingReady), typeof(MigrationRequested));
    }

    [Fact]
    public void the_targets_own_completed_after_the_move_changes_nothing()
    {
        var s = Migrating();
        var prepare = s.Pending.PrepareCommandId;

        s.When(Agent.Reports(Imac, prepare, ReportState.Completed)).ThenNothing();
        s.When(Agent.SourceCompletes()).Then(typeof(MigrationCompleted));
    }

    [Fact]
    public void a_late_failure_of_the_prepare_command_while_the_vm_is_sent_changes_nothing()
    {
        var s = Migrating();

        s.When(Agent.Reports(Imac, s.Pending.PrepareCommandId, ReportState.Failed, r => r with { Error = "timeout" }))
            .ThenNothing();
        Assert.Equal(Phases.Migrating, s.Pending.Phase);
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void late_reports_after_completion_change_nothing(ReportState state)
    {
        var s = Migrating();
        var (prepare, migrate) = (s.Pending.PrepareCommandId, s.Pending.MigrateCommandId!);
        s.Given(Agent.SourceCompletes());

        s.When(Agent.Reports(Basement, migrate, state, r => r with { TotalBytes = 100, RemainingBytes = 0 })).ThenNothing();
        s.When(Agent.Reports(Imac, prepare, state, r => r with { IncomingUri = Agent.IncomingUri })).ThenNothing();
        Assert.Equal(Imac, s.State!.VmHost);
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void late_reports_after_a_failure_while_sending_change_nothing(ReportState state)
    {
        var s = Migrating();
        var (prepare, migrate) = (s.Pending.PrepareCommandId, s.Pending.MigrateCommandId!);
        s.Given(Agent.SourceFails("boom"));

        s.When(Agent.Reports(Basement, migrate, state, r => r with { TotalBytes = 100, RemainingBytes = 0 })).ThenNothing();
        s.When(Agent.Reports(Imac, prepare, state, r => r with { IncomingUri = Agent.IncomingUri })).ThenNothing();
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void a_late_ready_after_a_failure_while_preparing_does_not_restart_the_move()
    {
        var s = Preparing();
        var prepare = s.Pending.PrepareCommandId;
        s.Given(Agent.TargetReports(ReportState.Cancelled));

        s.When(Agent.Reports(Imac, prepare, ReportState.Ready, r => r with { IncomingUri = Agent.IncomingUri })).ThenNothing();
        Assert.Null(s.State!.Migration);
    }

    [Fact]
    public void a_duplicate_completed_changes_nothing()
    {
        var s = Migrating();
        var migrate = s.Pending.MigrateCommandId!;
        s.Given(Agent.SourceCompletes());

        s.When(Agent.Reports(Basement, migrate, ReportState.Completed)).ThenNothing();
        Assert.Single(s.History.OfType<MigrationCompleted>());
    }

    [Fact]
    public void reports_for_an_earlier_move_do_not_touch_the_current_one()
    {
        var s = Migrating();
        var (oldPrepare, oldMigrate) = (s.Pending.PrepareCommandId, s.Pending.MigrateCommandId!);
        s.Given(Agent.SourceCompletes(), Alice.LogsInAt(Laptop));

        s.When(Agent.Reports(Imac, oldPrepare, ReportState.Ready, r => r with { IncomingUri = Agent.IncomingUri })).ThenNothing();
        s.When(Agent.Reports(Basement, oldMigrate, ReportState.Failed)).ThenNothing();
        Assert.Equal(Phases.Preparing, s.Pending.Phase);
        Assert.Equal(Laptop, s.Pending.Target);
    }
}
