using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Soft rules rank by points: running the VM on the seat is worth +2 to a user who prefers local, +3 for a
/// latency-sensitive VM, −1 on a laptop that runs on battery, −1 for a move slower than SlowMigration. It must be
/// worth more than nothing, and at least MinimumBenefit; otherwise the seat shows the VM, and the decision says
/// what the points were.
/// </summary>
public class benefit_points_decide_between_running_and_showing
{
    private static Scenario Alice(double minimumBenefit = 0) =>
        Scenario.AliceOnTheBasementServer().WithSettings(p => p with { MinimumBenefit = minimumBenefit });

    [Fact]
    public void a_user_who_prefers_local_is_worth_two_points_which_is_enough_for_a_minimum_of_two()
    {
        var s = Alice(minimumBenefit: 2)
            .When(Support.Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(Rules.FollowSeat, decision.Rule);
        Assert.Equal("alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s (+2 prefers local)", decision.Reason);
    }

    [Fact]
    public void without_a_minimum_the_reason_does_not_list_points()
    {
        var s = Alice().When(Support.Alice.LogsInAt(Imac));

        Assert.Equal("alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", s.The<PlacementDecided>().Reason);
    }

    [Fact]
    public void a_thin_client_user_earns_no_points_and_gets_the_display()
    {
        var s = Alice(minimumBenefit: 1)
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .When(Support.Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal((PlacementMode.AttachDisplay, Rules.PreferThinClient), (s.The<PlacementDecided>().Mode, s.The<PlacementDecided>().Rule));
        Assert.Empty(s.The<PlacementDecided>().Rejected);
    }

    [Fact]
    public void below_the_minimum_the_seat_shows_it_and_the_rejection_lists_the_points()
    {
        var s = Alice(minimumBenefit: 3)
            .When(Support.Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (decision.Mode, decision.Rule));
        var rejected = Assert.Single(decision.Rejected);
        Assert.Equal(Imac, rejected.Host);
        Assert.Equal(Rules.MinimumBenefit, rejected.Rule);
        Assert.Equal("imac: running alice-desktop there is worth 2 points (+2 prefers local), less than the 3 needed", rejected.Reason);
        Assert.Equal(
            "alice sat down at imac; alice-desktop does not move to imac now (imac: running alice-desktop there is worth 2 points (+2 prefers local), less than the 3 needed), so imac shows it while it keeps running on basement",
            decision.Reason);
    }

    [Fact]
    public void a_laptop_on_battery_costs_a_point()
    {
        var s = Alice(minimumBenefit: 2)
            .WithHouse(h => h.OnBattery(Laptop, 80))
            .When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal(Rules.ThinClientFallback, s.The<PlacementDecided>().Rule);
        Assert.Equal(
            "laptop: running alice-desktop there is worth 1 points (+2 prefers local, −1 laptop on battery), less than the 2 needed",
            Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void a_laptop_on_mains_costs_nothing()
    {
        var s = Alice(minimumBenefit: 2).When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void a_slow_move_costs_a_point()
    {
        // 8 GiB over 1 Gbit/s is about 68 s, slower than the one minute that counts as slow here.
        var s = Alice(minimumBenefit: 2)
            .WithSettings(p => p with { SlowMigration = Duration.FromMinutes(1) })
            .When(Support.Alice.LogsInAt(Imac));

        Assert.Equal(
            "imac: running alice-desktop there is worth 1 points (+2 prefers local, −1 slow move), less than the 2 needed",
            Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void a_move_quicker_than_slow_costs_nothing()
    {
        var s = Alice(minimumBenefit: 2)
            .WithSettings(p => p with { SlowMigration = Duration.FromMinutes(2) })
            .When(Support.Alice.LogsInAt(Imac));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void worth_nothing_at_all_the_seat_shows_it_and_says_so()
    {
        // +2 prefers local, −1 on battery, −1 slow: nothing gained by moving, so the seat shows it.
        var s = Alice()
            .WithSettings(p => p with { SlowMigration = Duration.FromMinutes(1) })
            .WithHouse(h => h.OnBattery(Laptop, 80))
            .When(Support.Alice.LogsInAt(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (decision.Mode, decision.Rule));
        var rejected = Assert.Single(decision.Rejected);
        Assert.Equal(Rules.MinimumBenefit, rejected.Rule);
        Assert.Equal("laptop: running alice-desktop there is worth 0 points (+2 prefers local, −1 laptop on battery, −1 slow move), nothing gained", rejected.Reason);
    }

    [Fact]
    public void worth_nothing_at_a_seat_that_also_fails_a_hard_rule_names_the_hard_rule()
    {
        var s = Alice()
            .WithSettings(p => p with { SlowMigration = Duration.FromMinutes(1), LaptopMinBatteryPercent = 20 })
            .WithHouse(h => h.OnBattery(Laptop, 10))
            .When(Support.Alice.LogsInAt(Laptop));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(Rules.ThinClientFallback, decision.Rule);
        Assert.Equal(Rules.LaptopBattery, Assert.Single(decision.Rejected).Rule);
    }
}
