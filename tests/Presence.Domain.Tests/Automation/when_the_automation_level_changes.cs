using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Automation;

/// <summary>
/// `automation` sets how far Presence may act for a person while it runs (Home Assistant's select, the dashboard):
/// recorded as an event with the request that asked, used from the next decision on, and given up again when the
/// house file's level for the person is edited afterwards (the later change wins).
/// </summary>
public class when_the_automation_level_changes
{
    [Fact]
    public void the_change_is_recorded_with_the_request_that_asked_for_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.AsksForAutomation("recommend"))
            .Then(typeof(SignalRecorded), typeof(AutomationLevelChanged))
            .ThenNoCommands();

        var changed = s.The<AutomationLevelChanged>();
        Assert.Equal((AutomationLevel.Recommend, AutomationLevel.Automatic, AutomationLevel.Automatic, "ev-1"),
            (changed.Level, changed.Was, changed.HouseFileLevel, changed.EvidenceId));
        Assert.Equal(AutomationLevel.Recommend, UserDecider.AutomationOf(s.State, s.Policy.User(AliceName)!));
        Assert.Equal("automation level set to recommend (was automatic)", Presence.Domain.Words.EventText.Of(changed));
    }

    [Fact]
    public void recommend_set_at_run_time_proposes_instead_of_moving()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.AsksForAutomation("recommend"))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementProposed))
            .ThenNoCommands();

        Assert.Equal(Imac, s.State!.Proposal!.To);
    }

    [Fact]
    public void manual_set_at_run_time_suppresses_the_move()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.AsksForAutomation("manual"))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Rules.ManualLevel, s.The<MoveSuppressed>().Rule);
        Assert.Empty(s.Events.OfType<IncomingRequested>());
    }

    [Fact]
    public void automatic_set_at_run_time_overrides_the_house_files_recommend()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .Given(Alice.AsksForAutomation("automatic"))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void asking_for_the_level_that_holds_changes_nothing()
    {
        Scenario.AliceOnTheBasementServer().When(Alice.AsksForAutomation("automatic")).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void an_edit_of_the_house_files_level_afterwards_wins()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.AsksForAutomation("manual"))
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementProposed));

        Assert.Equal(AutomationLevel.Recommend, UserDecider.AutomationOf(s.State, s.Policy.User(AliceName)!));
    }

    [Fact]
    public void a_level_that_does_not_exist_is_refused_and_nothing_changes()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.AsksForAutomation("sometimes"))
            .Then(typeof(SignalRecorded), typeof(RequestRefused));

        Assert.Contains("automation", s.The<RequestRefused>().Reason);
        Assert.Null(s.State!.Automation);
    }

    [Fact]
    public void a_waiting_proposal_still_waits_for_its_answer()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksForAutomation("automatic"));

        Assert.NotNull(s.State!.Proposal);
        Assert.Empty(s.Commands);
    }
}
