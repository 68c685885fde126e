using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Audit;

/// <summary>
/// Every event a decision stores carries its story: the correlation id says what started it, the causation id what
/// this step answered, the headers which decision it carries out, under which policy and on which server.
/// </summary>
public class stamping_a_decision
{
    private const string Node = "node-1";

    /// <summary>Decides <paramref name="step"/> after the scenario's history, keeps its events, and stamps them.</summary>
    private static (AuditStamp Stamp, IReadOnlyList<object> Events) Stamp(Scenario s, Step step)
    {
        var before = s.State;
        var input = step(s);
        var events = UserDecider.Decide(before, input, s.Now, s.Policy);
        s.Given(events.ToArray());
        return (AuditStamp.For(input, before, events, s.Policy.Version, Node), events);
    }

    private static Scenario AliceWaitingToSettleAtTheImac()
    {
        // No display address, so nothing is shown first: the wait is the only thing the login started.
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.NoDisplayUri())
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromMinutes(1)) });
        Stamp(s, Alice.LogsInAt(Imac));
        return s;
    }

    private static string DecisionOf(IReadOnlyList<object> events) => events.OfType<PlacementDecided>().Single().DecisionId;

    [Fact]
    public void a_signal_that_decides_starts_the_story_and_names_its_decision()
    {
        var s = Scenario.AliceOnTheBasementServer();

        var (stamp, events) = Stamp(s, Alice.LogsInAt(Imac));

        Assert.Equal(("ev-1", "ev-1"), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal(DecisionOf(events), stamp.Headers[AuditStamp.DecisionIdHeader]);
        Assert.Equal(s.Policy.Version, stamp.Headers[AuditStamp.PolicyVersionHeader]);
        Assert.Equal(Node, stamp.Headers[AuditStamp.NodeHeader]);
    }

    [Fact]
    public void an_agents_answer_belongs_to_the_story_of_the_decision_it_carries_out()
    {
        var s = Scenario.AliceOnTheBasementServer();
        var (_, decided) = Stamp(s, Alice.LogsInAt(Imac));
        var prepare = s.Pending.PrepareCommandId;

        var (stamp, _) = Stamp(s, Agent.TargetIsReady());

        Assert.Equal(("ev-1", prepare), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal(DecisionOf(decided), stamp.Headers[AuditStamp.DecisionIdHeader]);
    }

    [Fact]
    public void a_timeout_is_caused_by_its_move_and_phase()
    {
        var s = Scenario.AliceOnTheBasementServer().WithSettings(p => p with { PrepareTimeout = Duration.FromSeconds(30) });
        var (_, decided) = Stamp(s, Alice.LogsInAt(Imac));
        var move = s.Pending.Id;

        var (stamp, _) = Stamp(s, TheTimeout.RunsOut());

        Assert.Equal(("ev-1", move + "/" + Phases.Preparing), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal(DecisionOf(decided), stamp.Headers[AuditStamp.DecisionIdHeader]);
    }

    [Fact]
    public void a_signal_during_a_move_starts_a_story_of_its_own_with_no_decision()
    {
        var s = Scenario.AliceOnTheBasementServer();
        Stamp(s, Alice.LogsInAt(Imac));

        var (stamp, _) = Stamp(s, Alice.IsActiveAt(Imac));

        Assert.Equal(("ev-2", "ev-2"), (stamp.CorrelationId, stamp.CausationId));
        Assert.False(stamp.Headers.ContainsKey(AuditStamp.DecisionIdHeader));
    }

    [Fact]
    public void a_host_change_that_decides_is_correlated_by_its_decision_and_caused_by_the_hosts_stream()
    {
        var s = Scenario.AliceOnTheBasementServer();

        var (stamp, events) = Stamp(s, TheHost.GoesIntoMaintenance(Basement));

        Assert.Equal((DecisionOf(events), "host:basement"), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal(DecisionOf(events), stamp.Headers[AuditStamp.DecisionIdHeader]);
    }

    [Fact]
    public void a_wait_that_runs_out_belongs_to_the_signal_that_started_it()
    {
        var s = AliceWaitingToSettleAtTheImac();
        var wait = s.State!.Settling!.SettleId;

        var (stamp, events) = Stamp(s, TheWait.RunsOut());

        Assert.Equal(("ev-1", wait), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal(DecisionOf(events), stamp.Headers[AuditStamp.DecisionIdHeader]);
    }

    [Fact]
    public void a_wait_whose_seat_was_left_still_belongs_to_its_signal_and_names_no_decision()
    {
        var s = AliceWaitingToSettleAtTheImac();
        var wait = s.State!.Settling!.SettleId;
        var before = s.State;
        var input = TheWait.RunsOut(wait)(s);

        var stamp = AuditStamp.For(input, before, [], s.Policy.Version, Node);

        Assert.Equal(("ev-1", wait), (stamp.CorrelationId, stamp.CausationId));
        Assert.False(stamp.Headers.ContainsKey(AuditStamp.DecisionIdHeader));
    }

    [Fact]
    public void a_first_input_with_nothing_to_go_by_is_correlated_by_its_own_cause()
    {
        var s = Scenario.NewStream();
        var input = TheHost.AgentGoesOffline(Imac)(s);

        var stamp = AuditStamp.For(input, null, [], s.Policy.Version, Node);

        Assert.Equal(("host:imac", "host:imac"), (stamp.CorrelationId, stamp.CausationId));
        Assert.Equal([AuditStamp.NodeHeader, AuditStamp.PolicyVersionHeader], stamp.Headers.Keys.Order());
    }
}
