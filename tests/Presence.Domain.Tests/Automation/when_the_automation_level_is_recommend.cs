using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Automation;

/// <summary>`recommend`: decide, then wait for an `approve` or `decline` naming the decision; nothing is sent meanwhile.</summary>
public class when_the_automation_level_is_recommend
{
    private static Scenario RecommendAlice() =>
        Scenario.AliceOnTheBasementServer().WithPolicy(p => p.Automation(AutomationLevel.Recommend));

    [Fact]
    public void a_seat_change_proposes_the_move_and_sends_nothing()
    {
        var s = RecommendAlice()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementProposed))
            .ThenNoCommands();

        var proposal = s.The<PlacementProposed>();
        Assert.StartsWith("d-", proposal.DecisionId);
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat), (proposal.From, proposal.To, proposal.Mode, proposal.Rule));
        Assert.Equal("alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", proposal.Reason);
        Assert.Equal(["ev-1"], proposal.EvidenceIds);
        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / 1000.0), proposal.EstimatedDuration);
        Assert.Equal(s.Policy.Version, proposal.PolicyVersion);

        Assert.Equal(proposal, s.State!.Proposal);
        Assert.Null(s.State.Migration);
        Assert.Equal(proposal.DecisionId, s.State.LastDecision!.Id);
        Assert.StartsWith("waiting for approval: ", s.State.LastDecision.Reason);
    }

    [Fact]
    public void with_a_hold_down_it_proposes_when_the_wait_runs_out()
    {
        RecommendAlice()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.Zero, Duration.FromSeconds(30), Duration.FromSeconds(30)) })
            .Given(Alice.LogsInAt(Imac))
            .After(Duration.FromSeconds(30))
            .When(TheWait.RunsOut())
            .Then(typeof(PlacementProposed))
            .ThenNoCommands();
    }

    [Fact]
    public void showing_the_vm_needs_no_approval()
    {
        RecommendAlice()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));
    }

    [Fact]
    public void a_newer_seat_change_replaces_the_proposal()
    {
        var s = RecommendAlice().Given(Alice.LogsInAt(Imac)).When(Alice.LogsInAt(Laptop));

        Assert.Equal(Laptop, s.State!.Proposal!.To);
        Assert.Equal(2, s.History.OfType<PlacementProposed>().Select(p => p.DecisionId).Distinct().Count());
    }

    [Fact]
    public void soft_rules_still_apply_before_anything_is_proposed()
    {
        var s = RecommendAlice()
            .WithSettings(p => p with { QuietHours = new QuietHours(new LocalTime(17, 0), new LocalTime(7, 0)) })
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(Rules.QuietHours, s.The<MoveSuppressed>().Rule);
        Assert.Null(s.State!.Proposal);
    }
}
