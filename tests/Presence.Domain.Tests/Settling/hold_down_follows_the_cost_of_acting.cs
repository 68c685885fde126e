using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Settling;

/// <summary>
/// Attaching a display costs seconds, a migration a minute of network: each has its own hold-down, and the mode the
/// plan chose decides which one applies. A hold-down of zero means act at once. The displays here follow weak evidence
/// (activity in a session): after a console login or unlock the display needs no hold-down at all
/// (<see cref="evidence_strength_decides_the_wait"/>).
/// </summary>
public class hold_down_follows_the_cost_of_acting
{
    private static readonly HoldDowns Holds = new(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromMinutes(2));

    [Fact]
    public void a_move_waits_the_migration_hold_down()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = Holds })
            .When(Alice.LogsInAt(Imac));

        Assert.Equal((PlacementMode.LiveMigration, Duration.FromSeconds(30)), (s.The<SettlingStarted>().Mode, s.The<SettlingStarted>().HoldDown));
    }

    [Fact]
    public void showing_it_on_the_seat_waits_only_the_shorter_display_hold_down()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { HoldDown = Holds })
            .When(Alice.IsActiveAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted));

        var wait = s.The<SettlingStarted>();
        Assert.Equal(PlacementMode.AttachDisplay, wait.Mode);
        Assert.Equal(Duration.FromSeconds(3), wait.HoldDown);
        Assert.True(wait.HoldDown < Holds.LiveMigration);
    }

    [Fact]
    public void a_seat_that_cannot_run_it_only_shows_it_so_the_display_hold_down_applies()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = Holds })
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.IsActiveAt(Imac));

        Assert.Equal((PlacementMode.AttachDisplay, Duration.FromSeconds(3)), (s.The<SettlingStarted>().Mode, s.The<SettlingStarted>().HoldDown));
    }

    [Fact]
    public void the_display_is_attached_when_its_wait_runs_out()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { HoldDown = Holds })
            .Given(Alice.IsActiveAt(Imac))
            .After(Holds.AttachDisplay)
            .When(TheWait.RunsOut())
            .Then(typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Rules.PreferThinClient, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void waking_a_frozen_vm_waits_the_suspend_resume_hold_down()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = Holds })
            .Given(new SuspendRequested(AliceName, "o-1", "d-0", Vm, Basement, "/srv/alice.state", null, "c-suspend", Scenario.Start),
                new VmSuspended(AliceName, "o-1", Vm, Basement, "/srv/alice.state", null, Scenario.Start))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal((PlacementMode.Resume, Duration.FromMinutes(2)), (s.The<SettlingStarted>().Mode, s.The<SettlingStarted>().HoldDown));
    }

    [Fact]
    public void a_hold_down_of_zero_acts_at_once()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.Zero, Duration.Zero) })
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void a_zero_display_hold_down_shows_it_at_once_while_moves_still_wait()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.Zero, Duration.FromSeconds(30), Duration.FromSeconds(30)) })
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));
    }
}
