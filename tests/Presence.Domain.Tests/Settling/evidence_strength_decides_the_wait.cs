using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Settling;

/// <summary>
/// Evidence strength decides the wait (EvidenceStrength): a console login or unlock is certain, and the screen
/// shows the desktop at once; weak evidence (activity in a session, and the guesses to come) waits the display's
/// hold-down, and never takes a person from a seat certain evidence gave them. The expensive actions keep their
/// hold-downs whatever the evidence.
/// </summary>
public class evidence_strength_decides_the_wait
{
    private static readonly HoldDowns Holds = new(Duration.FromSeconds(3), Duration.FromSeconds(20), Duration.FromSeconds(30));

    private static Scenario ThinClientAlice() =>
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { HoldDown = Holds });

    [Theory]
    [InlineData(EvidenceDetails.Session.Login)]
    [InlineData(EvidenceDetails.Session.Unlock)]
    public void a_console_login_or_unlock_shows_the_desktop_at_once(string state)
    {
        var s = ThinClientAlice()
            .When(Alice.Session(Imac, state))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Imac, s.The<DisplayAttachRequested>().Host);
    }

    [Fact]
    public void activity_alone_waits_the_display_hold_down()
    {
        var s = ThinClientAlice()
            .When(Alice.IsActiveAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted))
            .ThenNoCommands();

        Assert.Equal(Holds.AttachDisplay, s.The<SettlingStarted>().HoldDown);
    }

    [Fact]
    public void a_remote_login_is_no_evidence_of_a_seat_at_all()
    {
        ThinClientAlice()
            .When(Alice.LogsInRemotelyAt(Imac))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();
    }

    [Fact]
    public void a_login_still_waits_the_hold_down_of_a_migration()
    {
        // The hold-downs guard the expensive move, not the first pixel.
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = Holds })
            .When(Alice.LogsInAt(Imac));

        Assert.Equal((PlacementMode.LiveMigration, Holds.LiveMigration), (s.The<SettlingStarted>().Mode, s.The<SettlingStarted>().HoldDown));
    }

    [Fact]
    public void activity_elsewhere_does_not_take_her_from_the_seat_she_logged_in_at()
    {
        var s = ThinClientAlice()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .When(Alice.IsActiveAt(Laptop))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void a_login_elsewhere_does()
    {
        var s = ThinClientAlice()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));

        Assert.Equal(Laptop, s.State!.Seat);
    }

    [Fact]
    public void activity_elsewhere_moves_her_once_idling_took_her_off_the_certain_seat()
    {
        var s = ThinClientAlice()
            .WithSettings(p => p with { IdleAway = Duration.FromMinutes(10) })
            .Given(Alice.LogsInAt(Imac), Alice.IsIdleAt(Imac, Duration.FromMinutes(11)))
            .When(Alice.IsActiveAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted));

        Assert.Equal(Laptop, s.State!.Seat);
    }

    [Fact]
    public void activity_may_replace_a_seat_activity_gave()
    {
        var s = ThinClientAlice()
            .Given(Alice.IsActiveAt(Imac))
            .When(Alice.IsActiveAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted));

        Assert.Equal(Laptop, s.State!.Seat);
    }

    [Fact]
    public void a_login_during_a_weak_wait_shows_it_at_once()
    {
        var s = ThinClientAlice()
            .Given(Alice.IsActiveAt(Imac))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal((Imac, Imac, 1.0), (s.The<SeatChanged>().Seat, s.The<SeatChanged>().PreviousSeat, s.The<SeatChanged>().Confidence));
        Assert.Null(s.State!.Settling);
    }

    [Fact]
    public void a_login_during_a_weak_wait_for_a_move_keeps_the_moves_wait()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = Holds })
            .Given(Alice.IsActiveAt(Imac));
        var wait = s.State!.Settling!;
        s.When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged))
            .ThenNoCommands();

        Assert.Equal(wait, s.State!.Settling);
        Assert.Equal(Strength.Certain, EvidenceStrength.Of(s.State.SeatConfidence));
    }

    [Theory]
    [InlineData(0.7, 1.0, true)]
    [InlineData(1.0, 0.9, false)]
    [InlineData(1.0, 1.0, true)]
    [InlineData(0.9, 0.9, true)]
    public void the_rule_in_one_place(double current, double next, bool replaces) =>
        Assert.Equal(replaces, EvidenceStrength.MayReplace(new SeatBelief(Imac, current, []), new SeatBelief(Laptop, next, [])));

    [Fact]
    public void leaving_is_never_weak_evidence_overriding_anything() =>
        Assert.True(EvidenceStrength.MayReplace(new SeatBelief(Imac, 1.0, []), new SeatBelief(null, 0.7, [])));
}
