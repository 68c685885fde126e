using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Against ping-pong: for Cooldown after a move no other move follows the seat. The decider records the suppressed
/// move with both times in the house's time zone, and the new seat shows the VM meanwhile.
/// </summary>
public class when_the_vm_moved_a_moment_ago
{
    private static readonly Duration Cooldown = Duration.FromMinutes(10);

    /// <summary>Moved to the iMac at 18:00:03 UTC, which is 19:00:03 in Berlin in November.</summary>
    private static Scenario MovedToTheImac() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { Cooldown = Cooldown, TimeZone = Berlin })
        .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes())
        .WithHouse(h => h.VmRunsOn(Imac));

    [Fact]
    public void a_new_seat_within_the_cooldown_is_suppressed_and_shows_the_vm()
    {
        var s = MovedToTheImac()
            .After(Duration.FromMinutes(2))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.Cooldown, suppressed.Rule);
        Assert.Equal(Laptop, suppressed.Wanted);
        Assert.Equal(
            "alice sat down at laptop; alice-desktop moved at 19:00:03; against ping-pong the next move waits until 19:10:03",
            suppressed.Reason);
        Assert.Equal(Rules.Cooldown, Assert.Single(suppressed.Rejected).Rule);

        var shown = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback, Imac, Laptop), (shown.Mode, shown.Rule, shown.From, shown.To));
        Assert.NotEqual(suppressed.DecisionId, shown.DecisionId);
        Assert.Equal(
            "alice sat down at laptop; alice-desktop does not move to laptop now (alice-desktop moved at 19:00:03; against ping-pong the next move waits until 19:10:03), so laptop shows it while it keeps running on imac",
            shown.Reason);
        Assert.Equal("spice://imac:5930", s.The<DisplayAttachRequested>().DisplayUri);
        Assert.Equal(Laptop, s.The<DisplayAttachRequested>().Host);
        Assert.Null(s.State!.Migration);
    }

    [Fact]
    public void the_last_second_of_the_cooldown_still_holds_it()
    {
        var s = MovedToTheImac().After(Cooldown - Duration.FromSeconds(2)).When(Alice.LogsInAt(Laptop));

        Assert.Equal(Rules.Cooldown, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void once_the_cooldown_is_over_it_moves_again()
    {
        var s = MovedToTheImac()
            .After(Cooldown - Duration.FromSeconds(1))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        Assert.Equal((Imac, Laptop), (s.The<IncomingRequested>().Source, s.The<IncomingRequested>().Target));
    }

    [Fact]
    public void a_failed_move_starts_no_cooldown()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { Cooldown = Cooldown })
            .Given(Alice.LogsInAt(Imac), Agent.TargetReports(ReportState.Failed, "no room"))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void a_vm_woken_from_a_freeze_counts_as_moved()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { Cooldown = Cooldown, TimeZone = Berlin })
            .Given(new SuspendRequested(AliceName, "o-1", "d-0", Vm, Basement, "/srv/alice.state", null, "c-suspend", Scenario.Start),
                new VmSuspended(AliceName, "o-1", Vm, Basement, "/srv/alice.state", null, Scenario.Start))
            .Given(Alice.LogsInAt(Imac), Agent.OperationReports(ReportState.Completed))
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal(Rules.Cooldown, s.The<MoveSuppressed>().Rule);
        Assert.Contains("moved at 19:00:02", s.The<MoveSuppressed>().Reason);
    }
}
