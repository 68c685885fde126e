using Presence.Domain.Hosts;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>Commands are derived from stored events, so a replay shows what would have been sent and nothing is sent twice.</summary>
public class agent_commands_for_events
{
    private static readonly Instant At = Scenario.Start;

    [Fact]
    public void incoming_requested_asks_the_target_to_prepare()
    {
        var command = Assert.Single(AgentCommands.For(
            new IncomingRequested(AliceName, "m-1", "d-1", Vm, Basement, Imac, 8 * Gib, "c-prepare", At)));

        Assert.Equal(new CommandToAgent(Imac, "c-prepare", CommandKind.PrepareIncoming, Vm, MemoryMb: 8 * Gib), command);
    }

    [Fact]
    public void migration_requested_asks_the_source_to_send()
    {
        var command = Assert.Single(AgentCommands.For(
            new MigrationRequested(AliceName, "m-1", Vm, Basement, Imac, "tcp:imac:49152", 1000, 300, "c-migrate", At)));

        Assert.Equal(
            new CommandToAgent(Basement, "c-migrate", CommandKind.Migrate, Vm, TargetHost: Imac, TargetUri: "tcp:imac:49152",
                MaxBandwidthMbps: 1000, DowntimeLimitMs: 300),
            command);
    }

    [Fact]
    public void a_failure_with_an_abort_id_tells_the_target_to_stop_waiting()
    {
        var command = Assert.Single(AgentCommands.For(
            new MigrationFailed(AliceName, "m-1", Vm, Phases.Migrating, "boom", Basement, Imac, "c-abort", At)));

        Assert.Equal(new CommandToAgent(Imac, "c-abort", CommandKind.AbortIncoming, Vm), command);
    }

    [Fact]
    public void a_failure_without_an_abort_id_sends_nothing()
    {
        Assert.Empty(AgentCommands.For(new MigrationFailed(AliceName, "m-1", Vm, Phases.Preparing, "boom", Basement, Imac, null, At)));
    }

    [Fact]
    public void display_attach_requested_asks_the_seat_to_show_the_vm()
    {
        var command = Assert.Single(AgentCommands.For(
            new DisplayAttachRequested(AliceName, "d-1", Vm, Imac, Display, "c-attach", At)));

        Assert.Equal(new CommandToAgent(Imac, "c-attach", CommandKind.AttachDisplay, Vm, DisplayUri: Display), command);
    }

    [Fact]
    public void display_detach_requested_asks_the_screen_to_stop_showing_the_vm()
    {
        var command = Assert.Single(AgentCommands.For(
            new DisplayDetachRequested(AliceName, Vm, Imac, "c-detach", "alice logged out at imac", At)));

        Assert.Equal(new CommandToAgent(Imac, "c-detach", CommandKind.DetachDisplay, Vm), command);
    }

    [Fact]
    public void suspend_requested_asks_the_host_to_freeze_the_vm_to_its_file()
    {
        var command = Assert.Single(AgentCommands.For(
            new SuspendRequested(AliceName, "o-1", "d-1", Vm, Basement, "/srv/alice.state", null, "c-suspend", At)));

        Assert.Equal(new CommandToAgent(Basement, "c-suspend", CommandKind.Suspend, Vm, To: "/srv/alice.state"), command);
    }

    [Fact]
    public void resume_requested_asks_the_host_to_wake_the_vm_from_its_file()
    {
        var command = Assert.Single(AgentCommands.For(
            new ResumeRequested(AliceName, "o-2", Vm, Imac, "/srv/alice.state", "c-resume", At)));

        Assert.Equal(new CommandToAgent(Imac, "c-resume", CommandKind.Resume, Vm, From: "/srv/alice.state"), command);
    }

    [Fact]
    public void incoming_requested_for_a_leaving_laptop_asks_it_to_stay_awake()
    {
        var command = Assert.Single(AgentCommands.For(
            new IncomingRequested(AliceName, "m-1", "d-1", Vm, Basement, Laptop, 8 * Gib, "c-prepare", At, InhibitSleep: true)));

        Assert.Equal(new CommandToAgent(Laptop, "c-prepare", CommandKind.PrepareIncoming, Vm, MemoryMb: 8 * Gib, InhibitSleep: true), command);
    }

    public static TheoryData<object> EventsThatSendNothing => new(
        new HouseObserved(AliceName, TheHouse.Facts().Hosts, At),
        new SignalRecorded(AliceName, new Evidence("ev-1", EvidenceKind.Session, Imac, AliceName, new Dictionary<string, string>(), At), At),
        new SeatChanged(AliceName, Imac, null, 1.0, ["ev-1"], At),
        new PlacementDecided(AliceName, "d-1", Vm, Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat, "why", ["ev-1"], [], Duration.FromSeconds(60), "p-1", At),
        new MoveSuppressed(AliceName, "d-1", Vm, Imac, Rules.OneMoveAtATime, "why", ["ev-1"], [], "p-1", At),
        new IncomingReady(AliceName, "m-1", Imac, "tcp:imac:49152", At),
        new MigrationProgressed(AliceName, "m-1", 50, 1, 1, 0, 900, At),
        new MigrationCompleted(AliceName, "m-1", Vm, Basement, Imac, 80, 9000, At),
        new DisplayAttached(AliceName, Vm, Imac, At),
        new DisplayAttachFailed(AliceName, Vm, Imac, "no", At),
        new AgentStatusReported(Imac, true, "1.0", "qemu", At),
        new PlacementProposed(AliceName, "d-1", Vm, Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat, "why", ["ev-1"], [], Duration.FromSeconds(60), "p-1", At),
        new ProposalAnswered(AliceName, "d-1", true, "ev-2", At),
        new SettlingStarted(AliceName, "w-1", Imac, PlacementMode.LiveMigration, Duration.FromSeconds(30), At + Duration.FromSeconds(30), ["ev-1"], At),
        new SettlingLapsed(AliceName, "w-1", "left", At),
        new HoldChanged(AliceName, true, "ev-1", At),
        new RequestRefused(AliceName, "ev-1", "no", At),
        new LeavingDetected(AliceName, Laptop, "unplugged", ["ev-1"], At),
        new VmSuspended(AliceName, "o-1", Vm, Basement, "/srv/alice.state", null, At),
        new SuspendFailed(AliceName, "o-1", Vm, Basement, "no", At),
        new VmResumed(AliceName, "o-2", Vm, Imac, At),
        new ResumeFailed(AliceName, "o-2", Vm, Imac, "no", At),
        "not an event at all");

    [Theory]
    [MemberData(nameof(EventsThatSendNothing))]
    public void every_other_event_sends_nothing(object @event)
    {
        Assert.Empty(AgentCommands.For(@event));
    }

    [Fact]
    public void a_whole_move_sends_prepare_then_migrate_with_the_ids_the_saga_waits_for()
    {
        var s = Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac));
        var prepare = s.Pending.PrepareCommandId;
        s.Given(Agent.TargetIsReady());

        var commands = s.History.SelectMany(AgentCommands.For).ToList();

        // Shown first on the seat, from where it runs, then moved.
        Assert.Equal([CommandKind.AttachDisplay, CommandKind.PrepareIncoming, CommandKind.Migrate], commands.Select(c => c.Kind));
        Assert.Equal([prepare, s.Pending.MigrateCommandId!], commands.Skip(1).Select(c => c.CommandId));
        Assert.Equal([Imac, Imac, Basement], commands.Select(c => c.Host));
        Assert.Equal(Agent.IncomingUri, commands[2].TargetUri);
    }
}
