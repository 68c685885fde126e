using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Requests;

/// <summary>
/// `hold` keeps the session where it is until `release` or `follow`: seat changes are recorded as suppressed moves
/// and the seat only shows the VM. `follow` also looks again at where she sits.
/// </summary>
public class when_alice_asks_to_hold
{
    private static Scenario Holding() => Scenario.AliceOnTheBasementServer().Given(Alice.AsksToHold());

    [Fact]
    public void the_hold_is_recorded_with_the_request_that_asked_for_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.AsksToHold())
            .Then(typeof(SignalRecorded), typeof(HoldChanged))
            .ThenNoCommands();

        var hold = s.The<HoldChanged>();
        Assert.True(hold.Held);
        Assert.Equal("ev-1", hold.EvidenceId);
        Assert.Equal(s.Now, hold.At);
        Assert.True(s.State!.Held);
        Assert.Equal(SessionMode.Held, s.State.Mode);
    }

    [Fact]
    public void asking_again_changes_nothing()
    {
        Holding().When(Alice.AsksToHold()).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_later_seat_change_is_suppressed_and_the_seat_shows_the_vm()
    {
        var s = Holding()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.Hold, suppressed.Rule);
        Assert.Equal("alice sat down at imac; alice asked to hold the session where it is", suppressed.Reason);
        Assert.Equal(["ev-2"], suppressed.EvidenceIds);
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (s.The<PlacementDecided>().Mode, s.The<PlacementDecided>().Rule));
        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void release_ends_the_hold_without_moving_anything()
    {
        var s = Holding()
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksToRelease())
            .Then(typeof(SignalRecorded), typeof(HoldChanged))
            .ThenNoCommands();

        Assert.False(s.The<HoldChanged>().Held);
        Assert.False(s.State!.Held);
    }

    [Fact]
    public void after_release_the_next_seat_change_moves_again()
    {
        Holding()
            .Given(Alice.AsksToRelease())
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void release_without_a_hold_changes_nothing()
    {
        Scenario.AliceOnTheBasementServer().When(Alice.AsksToRelease()).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void follow_ends_the_hold_and_brings_the_vm_to_where_she_sits()
    {
        var s = Holding()
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksToFollow())
            .Then(typeof(SignalRecorded), typeof(HoldChanged), typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.False(s.The<HoldChanged>().Held);
        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal(["ev-3"], decision.EvidenceIds);
    }

    [Fact]
    public void follow_at_no_seat_only_ends_the_hold()
    {
        Holding().When(Alice.AsksToFollow()).Then(typeof(SignalRecorded), typeof(HoldChanged));
    }

    [Fact]
    public void follow_without_a_hold_just_looks_again()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.AsksToHold(), Alice.LogsInAt(Imac), Alice.AsksToRelease())
            .When(Alice.AsksToFollow())
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void follow_does_not_wait_for_a_hold_down()
    {
        Holding()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromSeconds(30)) })
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksToFollow())
            .Then(typeof(SignalRecorded), typeof(HoldChanged), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void follow_for_a_thin_client_user_keeps_showing_the_vm_and_does_not_move_it()
    {
        // Following is the automatic mode: for someone who prefers thin-client mode that means the display.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.AsksToHold(), Alice.LogsInAt(Imac))
            .When(Alice.AsksToFollow());

        Assert.Empty(s.Events.OfType<IncomingRequested>());
        Assert.Null(s.State!.Migration);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void follow_is_the_automatic_mode_so_quiet_hours_still_apply()
    {
        var s = Holding()
            .WithSettings(p => p with { QuietHours = new QuietHours(new LocalTime(17, 0), new LocalTime(7, 0)) })
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .When(Alice.AsksToFollow())
            .Then(typeof(SignalRecorded), typeof(HoldChanged), typeof(MoveSuppressed));

        Assert.Equal(Rules.QuietHours, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void follow_at_a_seat_that_cannot_run_the_vm_shows_it_there()
    {
        var s = Holding()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Failed, "no screen"))
            .When(Alice.AsksToFollow())
            .Then(typeof(SignalRecorded), typeof(HoldChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Rules.FreeMemory, Assert.Single(s.The<PlacementDecided>().Rejected).Rule);
    }
}
