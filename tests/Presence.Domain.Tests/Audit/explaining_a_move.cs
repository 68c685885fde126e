using Presence.Domain.Audit;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Audit;

/// <summary>
/// `presence explain`: from a decision or migration id to the whole story — the signals, the seat believed, the rule
/// and the alternatives turned down, the commands sent, and how it ended with the measured times.
/// </summary>
public class explaining_a_move
{
    /// <summary>alice logs in at the iMac at 18:00:01 UTC (19:00:01 in Berlin) and her VM migrates there.</summary>
    private static Scenario AliceMovedToTheImac() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { TimeZone = Berlin })
        .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceProgress(100, 50), Agent.SourceCompletes(downtimeMs: 87, totalTimeMs: 12_500));

    [Fact]
    public void a_decision_tells_the_signals_the_seat_the_rule_the_commands_and_the_outcome()
    {
        var s = AliceMovedToTheImac();
        var decision = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s, Berlin).Explain(decision.DecisionId);

        Assert.Equal(("decision", "decided", decision.DecisionId), (story.Kind, story.Verdict, story.DecisionId));
        var signal = Assert.Single(story.Signals);
        Assert.Equal(("ev-1", "session", Imac), (signal.Id, signal.Kind, signal.Host));
        Assert.Equal((Imac, 1.0), (story.Seat!.Seat, story.Seat.Confidence));
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, decision.Rule), (story.From, story.To, story.Mode, story.Rule));
        Assert.Equal(decision.EstimatedDuration.TotalSeconds, story.EstimatedSeconds);
        Assert.Equal(["attach_display", "prepare_incoming", "migrate"], story.Commands.Select(c => c.Command));
        Assert.Equal([Imac, Imac, Basement], story.Commands.Select(c => c.Host));
        Assert.Equal(("completed", 12_500L, 87L), (story.Outcome.Status, story.Outcome.TotalTimeMs, story.Outcome.DowntimeMs));
        Assert.Equal([s.InHistory<IncomingRequested>().MigrationId], story.MoveIds);

        // Plain words, on the house's clock (Berlin is an hour ahead of UTC in November).
        Assert.Contains("What was seen:\n  2026-11-24 19:00:01  session on imac by alice (state=login, seat=console)  [ev-1]", story.Text);
        Assert.Contains("Where alice was: at imac, confidence 100%", story.Text);
        Assert.Contains($"move alice-desktop from basement to imac while it runs (live migration), by rule {decision.Rule}", story.Text);
        Assert.Contains("Why: " + decision.Reason, story.Text);
        Assert.Contains("prepare_incoming to imac: get ready to receive alice-desktop", story.Text);
        Assert.Contains("migrate to basement: send alice-desktop to imac", story.Text);
        Assert.Contains("alice-desktop moved basement → imac in 12.5 s (paused 87 ms)", story.Text);
    }

    [Fact]
    public void a_migration_id_tells_the_story_of_the_decision_it_carried_out()
    {
        var s = AliceMovedToTheImac();
        var migration = s.InHistory<IncomingRequested>();

        var story = AuditTrail.History(s, Berlin).Explain(migration.MigrationId);

        Assert.Equal(("migration", migration.MigrationId, migration.DecisionId), (story.Kind, story.Id, story.DecisionId));
        Assert.Equal("completed", story.Outcome.Status);
        Assert.StartsWith($"Migration {migration.MigrationId} (decision {migration.DecisionId}) for alice (alice-desktop)", story.Text);
    }

    [Fact]
    public void a_signal_id_tells_the_story_of_the_decision_it_led_to()
    {
        var s = AliceMovedToTheImac();
        var decision = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s, Berlin).Explain("ev-1");

        Assert.Equal(("signal", "ev-1", decision.DecisionId), (story.Kind, story.Id, story.DecisionId));
        Assert.Equal("completed", story.Outcome.Status);
        Assert.StartsWith($"Signal ev-1 (decision {decision.DecisionId}) for alice", story.Text);
    }

    [Fact]
    public void a_signal_that_led_to_no_decision_says_so()
    {
        var s = AliceMovedToTheImac().Given(Alice.IsActiveAt(Imac));

        var error = Assert.Throws<AuditException>(() => AuditTrail.History(s, Berlin).Explain("ev-2"));
        Assert.Contains("signal 'ev-2' led to no decision in alice's history", error.Message);
    }

    [Fact]
    public void the_alternatives_turned_down_come_with_their_reasons()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed));
        var decision = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s).Explain(decision.DecisionId);

        Assert.Equal([new RejectedAlternative(Imac, Rules.FreeMemory, "imac: 3 GiB free, needs 8 GiB")], story.Rejected);
        Assert.Contains("Alternatives turned down:\n  imac: imac: 3 GiB free, needs 8 GiB (rule free_memory)", story.Text);
        Assert.Equal(["attach_display"], story.Commands.Select(c => c.Command));
        Assert.Equal("completed", story.Outcome.Status);
        Assert.Contains("imac shows alice-desktop", story.Outcome.Text);
    }

    [Fact]
    public void a_failed_migration_says_why_and_where_the_vm_still_runs()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceFails("connection reset"));
        var decision = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s).Explain(decision.DecisionId);

        Assert.Equal("failed", story.Outcome.Status);
        Assert.Contains("connection reset", story.Outcome.Reason);
        Assert.Contains("still runs on basement", story.Outcome.Text);
        Assert.Contains("abort_incoming", story.Commands.Select(c => c.Command));
    }

    [Fact]
    public void a_suppressed_move_says_which_rule_held_it_back()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { Cooldown = Duration.FromMinutes(10) })
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Imac))
            .After(Duration.FromMinutes(2))
            .Given(Alice.LogsInAt(Laptop));
        var suppressed = s.InHistory<MoveSuppressed>();

        var story = AuditTrail.History(s).Explain(suppressed.DecisionId);

        Assert.Equal(("suppressed", Rules.Cooldown, Laptop), (story.Verdict, story.Rule, story.To));
        Assert.Equal("suppressed", story.Outcome.Status);
        Assert.Empty(story.Commands);
        Assert.Equal("ev-2", Assert.Single(story.Signals).Id);
        Assert.Contains("What was decided: not to move to laptop, by rule cooldown.", story.Text);
    }

    [Fact]
    public void a_move_still_under_way_says_how_far_it_got()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceProgress(100, 40));

        var story = AuditTrail.History(s).Explain(s.InHistory<PlacementDecided>().DecisionId);

        Assert.Equal("in_progress", story.Outcome.Status);
        Assert.Contains("60%", story.Outcome.Text);
    }

    [Fact]
    public void an_unknown_id_is_a_clear_error_that_names_it()
    {
        var history = AuditTrail.History(AliceMovedToTheImac());

        var error = Assert.Throws<AuditException>(() => history.Explain("d-nosuchthing"));

        Assert.Equal(AuditProblem.UnknownId, error.Problem);
        Assert.Contains("'d-nosuchthing' is not a decision, migration, operation or signal id in alice's history", error.Message);
        Assert.False(history.Knows("d-nosuchthing"));
    }
}

/// <summary>Freeze upstairs, retrieve downstairs: the wake-up carries no decision id, yet belongs to two stories.</summary>
public class explaining_a_frozen_vm
{
    private static Scenario FrozenThenWokenAtTheImac() => Scenario.AliceOnTheBasementServer()
        .Given(TheHost.GoesIntoMaintenance(Basement), Agent.OperationReports(ReportState.Completed))
        .After(Duration.FromHours(2))
        .Given(Alice.LogsInAt(Imac), Agent.OperationReports(ReportState.Completed));

    [Fact]
    public void the_decision_to_wake_it_tells_the_resume_and_its_outcome()
    {
        var s = FrozenThenWokenAtTheImac();
        var wake = s.History.OfType<PlacementDecided>().Single(d => d.Mode == PlacementMode.Resume);
        var resume = s.InHistory<ResumeRequested>();

        var story = AuditTrail.History(s).Explain(wake.DecisionId);

        Assert.Equal([resume.OperationId], story.MoveIds);
        Assert.Equal(["resume"], story.Commands.Select(c => c.Command));
        Assert.Equal("completed", story.Outcome.Status);
        Assert.Contains("woke on imac", story.Outcome.Text);
    }

    [Fact]
    public void the_wake_up_by_its_operation_id_names_the_decision_to_wake_it()
    {
        var s = FrozenThenWokenAtTheImac();
        var wake = s.History.OfType<PlacementDecided>().Single(d => d.Mode == PlacementMode.Resume);

        var story = AuditTrail.History(s).Explain(s.InHistory<ResumeRequested>().OperationId);

        Assert.Equal(("operation", wake.DecisionId), (story.Kind, story.DecisionId));
    }

    [Fact]
    public void the_decision_to_freeze_it_follows_the_vm_until_it_wakes()
    {
        var s = FrozenThenWokenAtTheImac();
        var freeze = s.History.OfType<PlacementDecided>().Single(d => d.Mode == PlacementMode.SuspendResume);

        var story = AuditTrail.History(s).Explain(freeze.DecisionId);

        Assert.Empty(story.Signals);
        Assert.Equal(["suspend", "resume"], story.Commands.Select(c => c.Command));
        Assert.Equal("completed", story.Outcome.Status);
        Assert.Contains("alice-desktop woke on imac, 2 h after the decision", story.Outcome.Text);
        Assert.Contains("no signal: it followed from the house changing", story.Text);
    }
}

/// <summary>`recommend`: a proposal's story ends with its answer, and an approval names the decision that carried it out.</summary>
public class explaining_a_proposal
{
    private static Scenario AliceProposedTheImac() =>
        Scenario.AliceOnTheBasementServer().WithPolicy(p => p.Automation(AutomationLevel.Recommend)).Given(Alice.LogsInAt(Imac));

    [Fact]
    public void unanswered_it_waits_and_nothing_was_sent()
    {
        var s = AliceProposedTheImac();

        var story = AuditTrail.History(s).Explain(s.InHistory<PlacementProposed>().DecisionId);

        Assert.Equal(("proposed", "waiting"), (story.Verdict, story.Outcome.Status));
        Assert.Empty(story.Commands);
        Assert.Contains("What was decided (proposed, waiting for approval)", story.Text);
    }

    [Fact]
    public void approved_it_names_the_decision_that_moved_the_vm()
    {
        var s = AliceProposedTheImac().Given(Alice.ApprovesTheProposal());
        var proposal = s.InHistory<PlacementProposed>();
        var decided = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s).Explain(proposal.DecisionId);

        Assert.Equal("approved", story.Outcome.Status);
        Assert.Contains($"decided again then as {decided.DecisionId}", story.Outcome.Text);
        Assert.NotEqual(proposal.DecisionId, decided.DecisionId);
    }

    [Fact]
    public void declined_nothing_was_done()
    {
        var s = AliceProposedTheImac().Given(Alice.DeclinesTheProposal());

        var story = AuditTrail.History(s).Explain(s.InHistory<PlacementProposed>().DecisionId);

        Assert.Equal("declined", story.Outcome.Status);
        Assert.Contains("nothing was done", story.Outcome.Text);
    }
}
