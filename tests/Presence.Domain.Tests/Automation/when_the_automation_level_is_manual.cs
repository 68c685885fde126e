using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Automation;

/// <summary>
/// `manual`: decide and record, never move. The history says what would have happened; showing the VM on the
/// seat is no move, so that still happens.
/// </summary>
public class when_the_automation_level_is_manual
{
    private static Scenario ManualAlice() =>
        Scenario.AliceOnTheBasementServer().WithPolicy(p => p.Automation(AutomationLevel.Manual));

    [Fact]
    public void a_seat_change_records_the_move_that_would_have_been_and_sends_no_move()
    {
        var s = ManualAlice()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.ManualLevel, suppressed.Rule);
        Assert.Equal(Imac, suppressed.Wanted);
        Assert.Equal(
            "alice's automation level is manual, so nothing moves; it would have been: alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s",
            suppressed.Reason);
        Assert.Equal(["ev-1"], suppressed.EvidenceIds);
        Assert.Null(s.State!.Migration);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void the_seat_still_shows_the_vm()
    {
        var s = ManualAlice().When(Alice.LogsInAt(Imac));

        Assert.Equal([CommandKind.AttachDisplay], s.Commands.Select(c => c.Kind));
        var shown = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback, Imac), (shown.Mode, shown.Rule, shown.To));
        Assert.Equal(Rules.ManualLevel, Assert.Single(shown.Rejected).Rule);
        Assert.Equal(
            "alice sat down at imac; alice-desktop does not move to imac now (alice's automation level is manual), so imac shows it while it keeps running on basement",
            shown.Reason);
    }

    [Fact]
    public void a_thin_client_user_simply_gets_the_display()
    {
        var s = ManualAlice()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Rules.PreferThinClient, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void with_a_hold_down_the_display_waits_the_display_hold_and_the_move_is_recorded_once_when_it_ends()
    {
        // Weak evidence (activity, not a login) waits; a login would show it at once (evidence_strength_decides_the_wait).
        var s = ManualAlice()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromSeconds(30)) })
            .When(Alice.IsActiveAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted))
            .ThenNoCommands();

        Assert.Equal(PlacementMode.AttachDisplay, s.The<SettlingStarted>().Mode);

        s.After(Duration.FromSeconds(3))
            .When(TheWait.RunsOut())
            .Then(typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayAttachRequested));
    }

    [Fact]
    public void a_move_request_is_recorded_but_not_carried_out()
    {
        var s = ManualAlice()
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(MoveSuppressed))
            .ThenNoCommands();

        Assert.Equal(Rules.ManualLevel, s.The<MoveSuppressed>().Rule);
        Assert.EndsWith("it would have been: alice asked for alice-desktop on imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", s.The<MoveSuppressed>().Reason);
    }

    [Fact]
    public void the_laptop_leaving_is_recorded_but_not_carried_out()
    {
        var s = ManualAlice()
            .Given(Alice.LogsInAt(Laptop), Alice.Unplugs(Laptop))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(MoveSuppressed))
            .ThenNoCommands();

        Assert.Equal(Rules.ManualLevel, s.The<MoveSuppressed>().Rule);
    }
}
