using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

public class when_the_migration_completes
{
    [Fact]
    public void the_vm_runs_on_the_target_and_the_measured_times_are_kept()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceProgress(100, 50));
        var migrationId = s.Pending.Id;

        s.When(Agent.SourceCompletes(downtimeMs: 87, totalTimeMs: 12_500))
            .Then(typeof(MigrationCompleted));

        Assert.Equal(new MigrationCompleted(AliceName, migrationId, Vm, Basement, Imac, 87, 12_500, s.Now), s.The<MigrationCompleted>());
        var state = s.State!;
        Assert.Equal(Imac, state.VmHost);
        Assert.Null(state.Migration);
        Assert.Equal(SessionMode.Local, state.Mode);
        Assert.Equal(s.Now, state.Since);
    }

    [Fact]
    public void a_display_shown_before_the_move_is_forgotten()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .WithHouse(h => h.FreeMemory(Imac, 12 * Gib))
            .Given(Alice.LogsInAt(Laptop), Agent.TargetIsReady(), Agent.SourceCompletes());

        Assert.Equal(Laptop, s.State!.VmHost);
        Assert.Null(s.State.DisplayedOn);
    }

    [Fact]
    public void it_obliges_no_command()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady())
            .When(Agent.SourceCompletes());

        Assert.Empty(AgentCommands.For(s.The<MigrationCompleted>()));
    }
}
