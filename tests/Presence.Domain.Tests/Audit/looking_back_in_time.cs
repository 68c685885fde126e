using Presence.Domain.Audit;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Audit;

/// <summary>
/// `presence state --at` and `presence history`: the saga as it stood at an instant and the story of a window, both
/// by domain time — when things happened by the house's clock, not when or in which order they were stored.
/// </summary>
public class looking_back_in_time
{
    private static Scenario AliceMovedToTheImac() => Scenario.AliceOnTheBasementServer()
        .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceProgress(100, 50))
        .After(Duration.FromMinutes(5))
        .Given(Agent.SourceCompletes());

    [Fact]
    public void mid_migration_the_vm_is_still_on_the_source_and_the_move_is_pending()
    {
        var s = AliceMovedToTheImac();
        var progressed = s.InHistory<MigrationProgressed>();

        var state = AuditTrail.History(s).StateAt(progressed.At + Duration.FromMinutes(1));

        Assert.Equal((Imac, Basement, SessionMode.Moving), (state.Seat, state.VmHost, state.Mode));
        var move = Assert.Single(state.Pending);
        Assert.Equal(("migration", Phases.Migrating, 50.0, Imac), (move.Kind, move.Phase, move.Percent, move.To));
        Assert.Contains("pending:   migration m-", state.Text);
    }

    [Fact]
    public void after_the_move_the_vm_is_on_the_seat_and_nothing_is_pending()
    {
        var s = AliceMovedToTheImac();

        var state = AuditTrail.History(s).StateAt(s.InHistory<MigrationCompleted>().At);

        Assert.Equal((Imac, Imac, SessionMode.Local), (state.Seat, state.VmHost, state.Mode));
        Assert.Empty(state.Pending);
        Assert.Equal(s.History.Count, state.EventsApplied);
    }

    [Fact]
    public void before_the_login_she_sat_nowhere_and_the_vm_ran_in_the_basement()
    {
        var s = AliceMovedToTheImac();

        var state = AuditTrail.History(s).StateAt(s.InHistory<SignalRecorded>().At - Duration.FromMilliseconds(1));

        Assert.Equal(((string?)null, Basement, SessionMode.ThinClient), (state.Seat, state.VmHost, state.Mode));
        Assert.Contains("seat:      none", state.Text);
    }

    [Fact]
    public void it_goes_by_when_things_happened_not_by_the_order_they_come_in()
    {
        var s = AliceMovedToTheImac();
        var shuffled = AuditTrail.Of(s).Reverse().ToList();
        var history = new UserHistory(AliceName, shuffled, DateTimeZone.Utc, Vm);

        var state = history.StateAt(s.InHistory<MigrationProgressed>().At);

        Assert.Equal((Imac, Basement, SessionMode.Moving), (state.Seat, state.VmHost, state.Mode));
    }

    [Fact]
    public void it_goes_by_domain_time_so_an_event_stored_early_but_dated_later_is_not_yet_applied()
    {
        // An imported or replayed stream: positions say one thing, the house's clock another. The completion is
        // stored third but happened last, after the instant asked about.
        var t0 = Instant.FromUtc(2026, 11, 25, 8, 0);
        IDomainEvent[] events =
        [
            new UserEnrolled(AliceName, Vm, Basement, "v1", t0),
            new IncomingRequested(AliceName, "m-1", "d-1", Vm, Basement, Imac, 8192, "c-1", t0 + Duration.FromMinutes(1)),
            new MigrationCompleted(AliceName, "m-1", Vm, Basement, Imac, 50, 9000, t0 + Duration.FromMinutes(30)),
            new SeatChanged(AliceName, Imac, null, 1.0, ["ev-1"], t0 + Duration.FromMinutes(2)),
        ];
        var history = new UserHistory(AliceName, events.Select((e, i) => new Recorded(i + 1, e, null, null, new Dictionary<string, string>())), DateTimeZone.Utc);

        var state = history.StateAt(t0 + Duration.FromMinutes(10));

        Assert.Equal(Imac, state.Seat);
        Assert.Equal("m-1", Assert.Single(state.Pending).Id);
        Assert.Equal(3, state.EventsApplied);
    }

    [Fact]
    public void an_instant_before_the_history_starts_is_a_clear_error()
    {
        var s = AliceMovedToTheImac();

        var error = Assert.Throws<AuditException>(() => AuditTrail.History(s).StateAt(Scenario.Start - Duration.FromDays(1)));

        Assert.Equal(AuditProblem.BadInstant, error.Problem);
        Assert.Contains("the history starts at 2026-11-24 18:00:00", error.Message);
    }

    [Fact]
    public void the_history_of_a_window_lists_signals_decisions_and_outcomes_on_the_house_clock()
    {
        var s = AliceMovedToTheImac();
        var decision = s.InHistory<PlacementDecided>();
        var history = new UserHistory(AliceName, AuditTrail.Of(s), DateTimeZoneProviders.Tzdb[Berlin], Vm);

        var window = history.Window(Scenario.Start, s.InHistory<MigrationCompleted>().At);

        Assert.Equal(["signal_recorded", "seat_changed", "placement_decided", "display_attach_requested", "incoming_requested", "migration_requested"],
            window.Lines.Select(l => l.Event).Where(e => e is not "user_enrolled"));
        Assert.Equal(decision.DecisionId, window.Lines.Single(l => l.Event == "placement_decided").Id);
        Assert.Contains("2026-11-24 19:00:01  signal: session on imac by alice (state=login, seat=console)  [ev-1]", window.Text);
        Assert.DoesNotContain("moved basement → imac", window.Text); // until is exclusive

        var all = history.Window(null, null);
        Assert.Contains("alice-desktop moved basement → imac in 9 s (paused 120 ms)", all.Text);
    }

    [Fact]
    public void a_window_the_wrong_way_round_is_a_clear_error()
    {
        var history = AuditTrail.History(AliceMovedToTheImac());

        var error = Assert.Throws<AuditException>(() => history.Window(Scenario.Start, Scenario.Start - Duration.FromHours(1)));

        Assert.Equal(AuditProblem.BadInstant, error.Problem);
        Assert.Contains("--until", error.Message);
    }

    [Theory]
    [InlineData("2026-11-25T09:15:00Z", "2026-11-25T09:15:00Z")]
    [InlineData("2026-11-25T10:15:00+01:00", "2026-11-25T09:15:00Z")]
    [InlineData("2026-11-25T10:15:00", "2026-11-25T09:15:00Z")]
    [InlineData("2026-11-25T10:15", "2026-11-25T09:15:00Z")]
    [InlineData("2026-11-25", "2026-11-24T23:00:00Z")]
    public void instants_are_read_as_iso_8601_or_on_the_house_clock(string text, string expected)
    {
        var at = Instants.Parse(text, DateTimeZoneProviders.Tzdb[Berlin], "--at");

        Assert.Equal(NodaTime.Text.InstantPattern.ExtendedIso.Parse(expected).Value, at);
    }

    [Fact]
    public void an_unreadable_instant_names_the_option_and_the_forms_it_takes()
    {
        var error = Assert.Throws<AuditException>(() => Instants.Parse("yesterday-ish", DateTimeZone.Utc, "--at"));

        Assert.Equal(AuditProblem.BadInstant, error.Problem);
        Assert.StartsWith("--at 'yesterday-ish' is not an instant: give an ISO-8601 instant such as 2026-11-25T09:15:00Z", error.Message);
    }
}

public class looking_back_at_an_empty_history
{
    [Fact]
    public void a_user_with_nothing_recorded_is_named_as_such()
    {
        var history = new UserHistory(TheHouse.AliceName, [], DateTimeZone.Utc);

        var error = Assert.Throws<Presence.Domain.Audit.AuditException>(() => history.StateAt(Scenario.Start));

        Assert.Equal(Presence.Domain.Audit.AuditProblem.UnknownUser, error.Problem);
        Assert.Equal("nothing is recorded for alice yet", error.Message);
        Assert.Empty(history.Window(null, null).Lines);
    }
}
