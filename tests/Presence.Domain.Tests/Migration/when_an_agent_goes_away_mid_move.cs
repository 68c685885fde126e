using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// An agent's last will (offline) during a move fails it at once, compensated on the side that can still hear us;
/// an agent announcing itself online gets the command of the pending phase again, with the same command id.
/// </summary>
public class when_an_agent_goes_away_mid_move
{
    private static Scenario Preparing() => Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac));

    private static Scenario Migrating() => Preparing().Given(Agent.TargetIsReady());

    [Fact]
    public void the_target_going_offline_while_preparing_fails_the_move_on_the_source()
    {
        var s = Preparing().When(TheHost.AgentGoesOffline(Imac));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(Phases.Preparing, failed.Phase);
        Assert.Equal("imac's agent went offline while imac prepared to receive alice-desktop; alice-desktop stays on basement", failed.Reason);
        Assert.Equal([new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm)], s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.Null(s.State.Migration);
    }

    [Fact]
    public void the_target_going_offline_during_migration_cancels_the_send_and_the_vm_stays_on_the_source()
    {
        var s = Migrating();
        var migrate = s.Pending.MigrateCommandId;

        s.When(TheHost.AgentGoesOffline(Imac));

        var failed = s.The<MigrationFailed>();
        Assert.Equal(Phases.Migrating, failed.Phase);
        Assert.Equal("imac's agent went offline during migration; alice-desktop stays on basement", failed.Reason);
        Assert.Equal(
            [
                new CommandToAgent(Basement, failed.CancelCommandId!, CommandKind.Cancel, Vm, Of: migrate),
                new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm),
            ],
            s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
        Assert.False(failed.WhereaboutsUncertain);
    }

    [Fact]
    public void the_source_going_offline_before_sending_fails_the_move_and_the_target_stops_waiting()
    {
        var s = Preparing().When(TheHost.AgentGoesOffline(Basement));

        var failed = s.The<MigrationFailed>();
        Assert.Equal("basement's agent went offline while imac prepared to receive alice-desktop; alice-desktop was not sent and stays on basement", failed.Reason);
        Assert.Equal([new CommandToAgent(Imac, failed.AbortCommandId!, CommandKind.AbortIncoming, Vm)], s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void the_source_going_offline_mid_migration_aborts_nothing_and_never_claims_the_target()
    {
        var s = Migrating().When(TheHost.AgentGoesOffline(Basement));

        var failed = s.The<MigrationFailed>();
        Assert.True(failed.WhereaboutsUncertain);
        Assert.Equal("basement's agent went offline during migration; whether alice-desktop reached imac is uncertain until an agent reports it", failed.Reason);
        Assert.Empty(s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void after_an_uncertain_failure_the_inventories_say_where_the_vm_runs()
    {
        var s = Migrating().Given(TheHost.AgentGoesOffline(Basement));

        s.When(TheHost.Changed(Basement, h => h.Online(Basement).VmRunsOn(Imac)));

        Assert.Equal(Imac, s.State!.VmHost);
    }

    [Fact]
    public void an_agent_elsewhere_going_offline_changes_nothing_about_the_move()
    {
        var s = Migrating();
        var pending = s.Pending;

        s.When(TheHost.AgentGoesOffline(Laptop));

        Assert.Empty(s.Events.OfType<MigrationFailed>());
        Assert.Equal(pending, s.State!.Migration);
    }

    [Fact]
    public void the_freezing_host_going_offline_fails_the_freeze_and_it_is_told_to_stop()
    {
        var s = Scenario.AliceOnTheBasementServer().Given(TheHost.GoesIntoMaintenance(Basement));
        var op = s.State!.Operation!;

        s.When(TheHost.Changed(Basement, h => h.Offline(Basement)));

        var failed = s.The<SuspendFailed>();
        Assert.Equal("basement's agent went offline while freezing alice-desktop", failed.Reason);
        Assert.Equal([new CommandToAgent(Basement, failed.CancelCommandId!, CommandKind.Cancel, Vm, Of: op.CommandId)], s.Commands);
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void the_target_announcing_itself_online_gets_the_same_prepare_again()
    {
        var s = Preparing();
        var prepare = s.InHistory<IncomingRequested>();

        s.When(TheHost.AgentComesOnline(Imac)).Then(typeof(CommandResent));

        Assert.Equal(AgentCommands.For(prepare), s.Commands);
        Assert.Equal("imac's agent came online while preparing waited for it", s.The<CommandResent>().Reason);
        Assert.Equal(prepare.MigrationId, s.State!.Migration!.Id);
    }

    [Fact]
    public void the_source_announcing_itself_online_gets_the_same_migrate_again()
    {
        var s = Migrating();
        var migrate = s.InHistory<MigrationRequested>();

        s.When(TheHost.AgentComesOnline(Basement)).Then(typeof(CommandResent));

        Assert.Equal(AgentCommands.For(migrate), s.Commands);
        Assert.Equal(migrate.CommandId, Assert.Single(s.Commands).CommandId);
    }

    [Fact]
    public void a_host_with_nothing_pending_coming_online_gets_nothing()
    {
        Migrating().When(TheHost.AgentComesOnline(Imac)).ThenNoCommands();
    }

    [Fact]
    public void the_freezing_host_announcing_itself_online_gets_the_same_suspend_again()
    {
        var s = Scenario.AliceOnTheBasementServer().Given(TheHost.GoesIntoMaintenance(Basement));
        var suspend = s.InHistory<SuspendRequested>();

        s.When(TheHost.Changed(Basement, h => h.InMaintenance(Basement).Online(Basement)));

        Assert.Equal(AgentCommands.For(suspend), s.Commands);
    }
}
