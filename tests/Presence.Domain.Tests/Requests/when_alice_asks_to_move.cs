using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Requests;

/// <summary>
/// `move` with a target: move now. A person's request outranks the points and every soft rule (thin-client
/// preference, cooldown, quiet hours, hold-down, hold) but never a hard rule; when a hard rule says no, nothing is
/// shown instead, because that was not what she asked for.
/// </summary>
public class when_alice_asks_to_move
{
    [Fact]
    public void the_vm_moves_to_the_target_at_once()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.AsksToMoveTo(Laptop))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Laptop, PlacementMode.LiveMigration, Rules.RequestMove), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal("alice asked for alice-desktop on laptop; alice-desktop (8 GiB) moves from basement to laptop, about 3.7 min", decision.Reason);
        Assert.Equal(["ev-1"], decision.EvidenceIds);
        Assert.Equal(Laptop, s.The<IncomingRequested>().Target);
        Assert.Null(s.State!.Seat); // a request says where the VM goes, not where she sits
    }

    [Fact]
    public void even_a_thin_client_users_vm_moves()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.Equal(Rules.RequestMove, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void it_does_not_wait_for_a_hold_down()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromMinutes(1), Duration.FromMinutes(1)) })
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void it_does_not_wait_for_the_cooldown()
    {
        Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { Cooldown = Duration.FromHours(1) })
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.AsksToMoveTo(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void it_overrides_a_hold()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.AsksToHold())
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void it_is_not_worth_points_but_it_still_moves()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { MinimumBenefit = 5 })
            .When(Alice.AsksToMoveTo(Imac));

        Assert.Equal(Rules.RequestMove, s.The<PlacementDecided>().Rule);
        Assert.Equal(Rules.MinimumBenefit, Assert.Single(s.The<PlacementDecided>().Rejected).Rule);
    }

    [Fact]
    public void a_recommend_user_is_not_asked_to_approve_her_own_request()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    public static TheoryData<string, Func<HouseSnapshot, HouseSnapshot>, string, string> HardRules => new()
    {
        { "free memory", h => h.FreeMemory(Imac, 3 * Gib), Rules.FreeMemory, "alice asked for alice-desktop on imac, but imac: 3 GiB free, needs 8 GiB" },
        { "agent offline", h => h.Offline(Imac), Rules.AgentOnline, "alice asked for alice-desktop on imac, but imac: agent is offline" },
        { "maintenance", h => h.InMaintenance(Imac), Rules.InMaintenance, "alice asked for alice-desktop on imac, but imac: in maintenance" },
        { "source offline", h => h.Offline(Basement), Rules.SourceAgentOnline, "alice asked for alice-desktop on imac, but basement: agent is offline, so it cannot send alice-desktop" },
    };

    [Theory]
    [MemberData(nameof(HardRules))]
    public void a_target_failing_a_hard_rule_is_refused_with_that_rule(
        string because, Func<HouseSnapshot, HouseSnapshot> house, string rule, string reason)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(house)
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(MoveSuppressed))
            .ThenNoCommands();

        var suppressed = s.The<MoveSuppressed>();
        Assert.True(rule == suppressed.Rule, because);
        Assert.Equal(Imac, suppressed.Wanted);
        Assert.Equal(reason, suppressed.Reason);
        Assert.Equal(rule, Assert.Single(suppressed.Rejected).Rule);
    }

    [Fact]
    public void a_laptop_on_a_low_battery_is_refused()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { LaptopMinBatteryPercent = 30 })
            .WithHouse(h => h.OnBattery(Laptop, 12))
            .When(Alice.AsksToMoveTo(Laptop));

        Assert.Equal(Rules.LaptopBattery, s.The<MoveSuppressed>().Rule);
        Assert.Equal("alice asked for alice-desktop on laptop, but laptop: on battery at 12 %, below the 30 % an incoming VM needs", s.The<MoveSuppressed>().Reason);
    }

    [Fact]
    public void a_host_she_may_not_use_is_refused()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.AsksToMoveTo(KidsPc))
            .Then(typeof(SignalRecorded), typeof(MoveSuppressed));

        Assert.Equal(Rules.AllowedHosts, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void to_where_it_already_runs_there_is_nothing_to_do()
    {
        Scenario.AliceOnTheBasementServer().When(Alice.AsksToMoveTo(Basement)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void while_another_move_is_in_flight_it_waits_its_turn()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.AsksToMoveTo(Laptop))
            .Then(typeof(SignalRecorded), typeof(MoveSuppressed));

        Assert.Equal(Rules.OneMoveAtATime, s.The<MoveSuppressed>().Rule);
    }
}
