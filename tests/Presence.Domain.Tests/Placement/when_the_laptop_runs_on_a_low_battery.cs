using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Hard rule laptop_battery: a laptop running on battery below LaptopMinBatteryPercent takes no incoming VM (a
/// migration drains it and it could die half way). It can still show the VM.
/// </summary>
public class when_the_laptop_runs_on_a_low_battery
{
    private static Scenario Alice(int minimum = 20) => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { LaptopMinBatteryPercent = minimum });

    [Fact]
    public void below_the_threshold_it_only_shows_the_vm()
    {
        var s = Alice()
            .WithHouse(h => h.OnBattery(Laptop, 15))
            .When(Support.Alice.LogsInAt(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (decision.Mode, decision.Rule));
        Assert.Equal([new RejectedAlternative(Laptop, Rules.LaptopBattery, "laptop: on battery at 15 %, below the 20 % an incoming VM needs")], decision.Rejected);
    }

    [Fact]
    public void at_the_threshold_it_takes_the_vm()
    {
        var s = Alice()
            .WithHouse(h => h.OnBattery(Laptop, 20))
            .When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void on_mains_a_low_charge_does_not_matter()
    {
        var s = Alice()
            .WithHouse(h => h.Change(Laptop, f => f with { OnBattery = false, BatteryPercent = 5 }))
            .When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void an_unknown_charge_on_battery_counts_as_too_low()
    {
        var s = Alice()
            .WithHouse(h => h.Change(Laptop, f => f with { OnBattery = true, BatteryPercent = null }))
            .When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal("laptop: on battery at unknown %, below the 20 % an incoming VM needs", Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void a_threshold_of_zero_switches_the_rule_off()
    {
        var s = Alice(minimum: 0)
            .WithHouse(h => h.OnBattery(Laptop, 3))
            .When(Support.Alice.LogsInAt(Laptop));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }

    [Fact]
    public void only_laptops_are_judged_by_their_battery()
    {
        var s = Alice()
            .WithHouse(h => h.OnBattery(Imac, 5)) // a desktop on a UPS, say
            .When(Support.Alice.LogsInAt(Imac));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
    }
}
