using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Leaving;

/// <summary>Leaving overrides every soft rule, but not the hard ones: a nearly flat laptop takes no VM, and says so.</summary>
public class when_the_laptop_leaves_with_a_low_battery
{
    [Fact]
    public void the_move_is_suppressed_with_the_battery_rule()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { LaptopMinBatteryPercent = 20 })
            .Given(Alice.LogsInAt(Laptop), Agent.SeatReports(ReportState.Completed))
            .WithHouse(h => h.OnBattery(Laptop, 10))
            .Given(Alice.Unplugs(Laptop))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(MoveSuppressed))
            .ThenNoCommands();

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.LaptopBattery, suppressed.Rule);
        Assert.Equal(Laptop, suppressed.Wanted);
        Assert.Equal("laptop is leaving the house with alice, but laptop: on battery at 10 %, below the 20 % an incoming VM needs", suppressed.Reason);
        Assert.Equal(Basement, s.State!.VmHost);
    }
}
