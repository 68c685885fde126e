using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Leaving;

/// <summary>
/// alice works on the laptop, her VM runs in the basement and the laptop shows it. Unplugging it and closing the lid
/// within LeaveWindow means she is taking it with her: the VM must be on the laptop before it sleeps, so the laptop's
/// agent is told to hold a sleep inhibitor while the migration onto it runs.
/// </summary>
public class when_the_laptop_is_unplugged_and_closed
{
    private static readonly Duration Window = Duration.FromMinutes(5);

    private static Scenario AtTheLaptop() => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
        .WithSettings(p => p with { LeaveWindow = Window, TimeZone = Berlin })
        .Given(Alice.LogsInAt(Laptop), Agent.SeatReports(ReportState.Completed));

    private static Scenario Unplugged() => AtTheLaptop()
        .WithHouse(h => h.OnBattery(Laptop, 80))
        .Given(Alice.Unplugs(Laptop));

    [Fact]
    public void the_vm_is_sent_to_the_laptop_at_once()
    {
        var s = Unplugged()
            .After(Duration.FromMinutes(1))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(PlacementDecided), typeof(IncomingRequested));

        var leaving = s.The<LeavingDetected>();
        Assert.Equal(Laptop, leaving.Host);
        Assert.Equal("laptop was unplugged at 19:00:03 and its lid closed at 19:01:04", leaving.Reason);
        Assert.Equal(["ev-3"], leaving.EvidenceIds); // the lid; the unplug (ev-2) is named only in the reason

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Basement, Laptop, PlacementMode.LiveMigration, Rules.LeavingWithLaptop), (decision.From, decision.To, decision.Mode, decision.Rule));
        Assert.Equal("laptop is leaving the house with alice; alice-desktop (8 GiB) moves from basement to laptop, about 3.7 min", decision.Reason);
        Assert.Equal(["ev-3"], decision.EvidenceIds);
    }

    [Fact]
    public void the_laptop_holds_off_sleep_while_the_vm_comes_in()
    {
        var s = Unplugged().When(Alice.ClosesTheLidOf(Laptop));

        var incoming = s.The<IncomingRequested>();
        Assert.True(incoming.InhibitSleep);
        var command = Assert.Single(s.Commands);
        Assert.Equal((Laptop, CommandKind.PrepareIncoming, true), (command.Host, command.Kind, command.InhibitSleep));
    }

    [Fact]
    public void a_move_to_a_desktop_needs_no_sleep_inhibitor()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Imac));

        Assert.False(s.The<IncomingRequested>().InhibitSleep);
        Assert.False(Assert.Single(s.Commands, c => c.Kind == CommandKind.PrepareIncoming).InhibitSleep);
    }

    [Fact]
    public void just_within_the_window_still_counts()
    {
        Unplugged()
            .After(Window - Duration.FromSeconds(1))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void a_lid_closed_long_after_unplugging_is_just_a_closed_lid()
    {
        Unplugged()
            .After(Window)
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();
    }

    [Fact]
    public void a_lid_closed_on_mains_is_just_a_closed_lid()
    {
        AtTheLaptop().When(Alice.ClosesTheLidOf(Laptop)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void plugging_back_in_clears_the_unplug()
    {
        var s = Unplugged().Given(Alice.PlugsIn(Laptop));
        Assert.Empty(s.State!.UnpluggedAt);

        s.When(Alice.ClosesTheLidOf(Laptop)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void opening_the_lid_is_not_leaving()
    {
        Unplugged().When(Alice.OpensTheLidOf(Laptop)).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_laptop_she_is_not_working_on_can_leave_without_her_vm()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac), Alice.Unplugs(Laptop))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_desktop_cannot_leave()
    {
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac), Alice.Unplugs(Imac))
            .When(Alice.ClosesTheLidOf(Imac))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void with_the_vm_already_on_the_laptop_only_the_leaving_is_recorded()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Laptop), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Laptop).OnBattery(Laptop, 80))
            .Given(Alice.Unplugs(Laptop))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected))
            .ThenNoCommands();
    }

    [Fact]
    public void leaving_does_not_wait_for_a_hold_down_quiet_hours_or_approval()
    {
        var s = Unplugged()
            .WithPolicy(p => p.Automation(AutomationLevel.Recommend))
            .WithSettings(p => p with
            {
                HoldDown = new HoldDowns(Duration.FromSeconds(5), Duration.FromMinutes(1), Duration.FromMinutes(1)),
                QuietHours = new QuietHours(new LocalTime(18, 0), new LocalTime(7, 0)),
                Cooldown = Duration.FromHours(1),
            })
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.Equal(Rules.LeavingWithLaptop, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void while_another_move_runs_it_is_suppressed_and_says_so()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Laptop), Alice.Unplugs(Laptop))
            .When(Alice.ClosesTheLidOf(Laptop))
            .Then(typeof(SignalRecorded), typeof(LeavingDetected), typeof(MoveSuppressed));

        Assert.Equal(Rules.OneMoveAtATime, s.The<MoveSuppressed>().Rule);
    }
}
