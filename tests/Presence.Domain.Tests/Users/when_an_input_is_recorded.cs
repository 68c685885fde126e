using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Users;

/// <summary>
/// Everything a decision used is in the stream before the decision: evidence with the moment it was taken up and the
/// seed of its ids, and every other input as its own record ahead of what it caused. An input that changed nothing
/// leaves no trace.
/// </summary>
public class when_an_input_is_recorded
{
    [Fact]
    public void evidence_keeps_when_it_was_taken_up_and_the_seed_of_its_ids()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Imac));

        var signal = s.The<SignalRecorded>();
        Assert.Equal(s.Now, signal.ReceivedAt);
        Assert.NotNull(signal.Seed);
        Assert.Equal(new Ids(signal.Seed!.Value).Decision(), s.The<PlacementDecided>().DecisionId);
    }

    [Fact]
    public void an_agents_report_comes_first_with_its_seed_and_time()
    {
        var s = Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac)).When(Agent.TargetIsReady())
            .Then(typeof(AgentReported), typeof(IncomingReady), typeof(MigrationRequested));

        var reported = s.The<AgentReported>();
        Assert.Equal(s.Now, reported.At);
        Assert.Equal(ReportState.Ready, reported.Report.State);
        Assert.Equal(s.InHistory<IncomingRequested>().CommandId, reported.Report.CommandId);
    }

    [Fact]
    public void a_wait_running_out_comes_first()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromMinutes(2)) })
            .Given(Alice.LogsInAt(Imac))
            .After(Duration.FromSeconds(30))
            .When(TheWait.RunsOut());

        Assert.IsType<SettlingWaitRanOut>(s.Events[0]);
        Assert.Equal(s.InHistory<SettlingStarted>().SettleId, ((SettlingWaitRanOut)s.Events[0]).SettleId);
        Assert.Single(s.Events.OfType<PlacementDecided>());
    }

    [Fact]
    public void a_timeout_that_fails_the_move_comes_first()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { PrepareTimeout = Duration.FromSeconds(30) })
            .Given(Alice.LogsInAt(Imac))
            .After(Duration.FromSeconds(31))
            .When(TheTimeout.RunsOut());

        var ran = Assert.IsType<PhaseTimeoutRanOut>(s.Events[0]);
        Assert.Equal(Phases.Preparing, ran.Phase);
        Assert.Single(s.Events.OfType<MigrationFailed>());
    }

    [Fact]
    public void a_host_change_that_matters_comes_after_the_house_it_changed()
    {
        var s = Scenario.AliceOnTheBasementServer().When(TheHost.GoesIntoMaintenance(Basement));

        Assert.IsType<HouseChanged>(s.Events[0]);
        Assert.Equal(Basement, Assert.IsType<HostChangeNoticed>(s.Events[1]).Host);
    }

    [Fact]
    public void an_input_that_changed_nothing_leaves_no_trace()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Agent.Reports(Imac, "nobody-sent-this", ReportState.Completed));

        s.ThenNothing();
    }

    [Fact]
    public void a_host_change_that_changed_only_the_house_records_the_house_and_whose_change_it_was()
    {
        var s = Scenario.AliceOnTheBasementServer().When(TheHost.AgentGoesOffline(KidsPc));

        s.Then(typeof(HouseChanged), typeof(HostChangeNoticed));
        Assert.Equal(KidsPc, s.The<HostChangeNoticed>().Host);
    }
}

/// <summary>An agent's answer belongs to the story of the decision its move carries out, whatever was decided since.</summary>
public class the_decision_being_carried_out
{
    [Fact]
    public void is_the_placement_even_after_a_later_move_was_suppressed()
    {
        var s = Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac));
        var decided = s.InHistory<PlacementDecided>().DecisionId;

        s.When(Alice.LogsInAt(Laptop));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.OneMoveAtATime, suppressed.Rule);
        Assert.Equal(suppressed.DecisionId, s.State!.LastDecision!.Id);
        Assert.Equal(decided, s.State.CarryingOut);
    }
}
