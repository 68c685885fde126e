using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Automation;

/// <summary>
/// An `approve` naming the waiting decision carries it out, planned again against the house as it is now; a
/// `decline` drops it. An answer for a decision that is not waiting, or one that cannot start now, is refused.
/// </summary>
public class when_a_proposal_is_answered
{
    private static Scenario Proposed() => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
        .Given(Alice.LogsInAt(Imac));

    [Fact]
    public void approve_carries_the_decision_out()
    {
        var s = Proposed();
        var proposal = s.State!.Proposal!;

        s.When(Alice.Approves(proposal.DecisionId))
            .Then(typeof(SignalRecorded), typeof(ProposalAnswered), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        var answer = s.The<ProposalAnswered>();
        Assert.Equal((proposal.DecisionId, true, "ev-2"), (answer.DecisionId, answer.Approved, answer.EvidenceId));
        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Imac, PlacementMode.LiveMigration, Rules.FollowSeat), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal(["ev-1", "ev-2"], decision.EvidenceIds);
        Assert.Equal("approved: alice-desktop to imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", decision.Reason);
        Assert.Equal(decision.DecisionId, s.The<IncomingRequested>().DecisionId);
        Assert.Null(s.State!.Proposal);
    }

    [Fact]
    public void approve_does_not_wait_for_quiet_hours_that_began_meanwhile()
    {
        var s = Proposed()
            .WithSettings(p => p with { QuietHours = new QuietHours(new LocalTime(17, 0), new LocalTime(7, 0)) })
            .When(Alice.ApprovesTheProposal())
            .Then(typeof(SignalRecorded), typeof(ProposalAnswered), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void approve_when_the_seat_has_since_filled_up_is_suppressed_by_the_hard_rule()
    {
        var s = Proposed()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.ApprovesTheProposal())
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(ProposalAnswered), typeof(MoveSuppressed))
            .ThenNoCommands();

        Assert.Equal(Rules.FreeMemory, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void decline_drops_it_and_sends_nothing()
    {
        var s = Proposed();
        var proposal = s.State!.Proposal!;

        s.When(Alice.Declines(proposal.DecisionId))
            .Then(typeof(SignalRecorded), typeof(ProposalAnswered))
            .ThenNoCommands();

        Assert.False(s.The<ProposalAnswered>().Approved);
        Assert.Null(s.State!.Proposal);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void approve_with_the_wrong_id_is_refused_naming_the_one_that_waits()
    {
        var s = Proposed();
        var waiting = s.State!.Proposal!.DecisionId;

        s.When(Alice.Approves("d-000000000000"))
            .Then(typeof(SignalRecorded), typeof(RequestRefused))
            .ThenNoCommands();

        Assert.Equal($"decision d-000000000000 is not waiting for an answer; {waiting} is the one waiting", s.The<RequestRefused>().Reason);
        Assert.Equal(waiting, s.State!.Proposal!.DecisionId);
    }

    [Fact]
    public void approve_when_nothing_waits_is_refused()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.Approves("d-000000000000"))
            .Then(typeof(SignalRecorded), typeof(RequestRefused));

        Assert.Equal("decision d-000000000000 is not waiting for an answer; none is waiting", s.The<RequestRefused>().Reason);
    }

    [Fact]
    public void a_second_approve_of_the_same_decision_is_refused()
    {
        var s = Proposed();
        var id = s.State!.Proposal!.DecisionId;

        s.Given(Alice.Approves(id))
            .When(Alice.Approves(id))
            .Then(typeof(SignalRecorded), typeof(RequestRefused))
            .ThenNoCommands();
    }

    [Fact]
    public void approving_a_proposal_that_was_replaced_is_refused()
    {
        var s = Proposed();
        var old = s.State!.Proposal!.DecisionId;

        s.Given(Alice.LogsInAt(Laptop))
            .When(Alice.Approves(old))
            .Then(typeof(SignalRecorded), typeof(RequestRefused));
    }

    [Fact]
    public void a_move_request_in_the_meantime_settles_the_proposal()
    {
        var s = Proposed();
        var id = s.State!.Proposal!.DecisionId;

        s.Given(Alice.AsksToMoveTo(Laptop))
            .When(Alice.Approves(id))
            .Then(typeof(SignalRecorded), typeof(RequestRefused));
    }

    [Fact]
    public void approve_while_a_move_is_in_flight_is_refused()
    {
        // The VM was frozen to wake on the laptop once its agent is back; meanwhile alice sits at the iMac and is
        // asked about waking it there. The laptop comes back first and the resume starts, so the approval must wait.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .WithHouse(h => h.Offline(Laptop))
            .Given(new SuspendRequested(AliceName, "o-1", "d-0", Vm, Basement, "/srv/alice.state", Laptop, "c-suspend", Scenario.Start),
                new VmSuspended(AliceName, "o-1", Vm, Basement, "/srv/alice.state", Laptop, Scenario.Start))
            .Given(Alice.LogsInAt(Imac));
        var id = s.State!.Proposal!.DecisionId;
        s.Given(TheHost.AgentComesOnline(Laptop));
        Assert.NotNull(s.State!.Operation);

        s.When(Alice.Approves(id))
            .Then(typeof(SignalRecorded), typeof(ProposalAnswered), typeof(RequestRefused))
            .ThenNoCommands();

        Assert.Equal($"alice-desktop is already being moved; {id} cannot start now", s.The<RequestRefused>().Reason);
    }
}
