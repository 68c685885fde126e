using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Show first, then move: when alice sits down, the seat shows her desktop where it runs now, whatever her mode; the
/// migration her preference (or a latency-sensitive VM) asks for still waits its hold-down and runs behind it; when
/// it lands and the seat's agent reports the VM with its own display address, the seat switches to that.
/// </summary>
public class show_first_then_move
{
    private static readonly HoldDowns Holds = new(Duration.FromSeconds(3), Duration.FromSeconds(20), Duration.FromSeconds(30));

    private static Scenario LocalAlice() => Scenario.AliceOnTheBasementServer().WithSettings(p => p with { HoldDown = Holds });

    [Fact]
    public void a_login_shows_it_at_once_and_the_move_waits_its_hold_down()
    {
        var s = LocalAlice()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(SettlingStarted));

        var shown = s.The<PlacementDecided>();
        Assert.Equal((PlacementMode.AttachDisplay, Basement, Imac), (shown.Mode, shown.From, shown.To));
        Assert.Equal("alice sat down at imac; shown at once from basement; moving to imac, about 68 s once alice has sat there for 20 s", shown.Reason);
        Assert.Equal(new CommandToAgent(Imac, s.The<DisplayAttachRequested>().CommandId, CommandKind.AttachDisplay, Vm, DisplayUri: Display), Assert.Single(s.Commands));
        Assert.Equal((PlacementMode.LiveMigration, Holds.LiveMigration), (s.The<SettlingStarted>().Mode, s.The<SettlingStarted>().HoldDown));
    }

    [Fact]
    public void when_the_hold_down_ends_it_moves_in_the_background_without_showing_it_again()
    {
        var s = LocalAlice()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .After(Holds.LiveMigration)
            .When(TheWait.RunsOut())
            .Then(typeof(PlacementDecided), typeof(IncomingRequested));

        Assert.Equal(PlacementMode.LiveMigration, s.The<PlacementDecided>().Mode);
        Assert.Equal(Imac, s.State!.DisplayedOn);
    }

    [Fact]
    public void without_a_hold_down_it_is_shown_and_moved_in_one_go()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        Assert.Equal([CommandKind.AttachDisplay, CommandKind.PrepareIncoming], s.Commands.Select(c => c.Kind));
        Assert.Equal("shown at once from basement; moving to imac, about 68 s", s.The<DisplayAttachRequested>().Reason);
    }

    [Theory]
    [InlineData(AutomationLevel.Recommend)]
    [InlineData(AutomationLevel.Manual)]
    public void whatever_the_automation_level_the_seat_shows_it_at_once(AutomationLevel level)
    {
        var s = LocalAlice()
            .WithPolicy(p => p.Automation(level))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal([CommandKind.AttachDisplay], s.Commands.Select(c => c.Kind));
    }

    [Fact]
    public void weak_evidence_shows_nothing_first_and_waits()
    {
        LocalAlice()
            .When(Alice.IsActiveAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted))
            .ThenNoCommands();
    }

    [Fact]
    public void a_move_a_person_asks_for_to_another_host_shows_nothing()
    {
        LocalAlice()
            .Given(Alice.LogsInAt(Laptop))
            .When(Alice.AsksToMoveTo(Imac))
            .Then(typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));
    }

    [Fact]
    public void a_seat_that_cannot_show_it_still_gets_the_move()
    {
        LocalAlice()
            .WithHouse(h => h.NoDisplayUri())
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted))
            .ThenNoCommands();
    }

    [Fact]
    public void when_it_lands_and_the_seat_reports_it_the_seat_switches_to_the_local_display()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed), Agent.TargetIsReady())
            .When(Agent.SourceCompletes())
            .Then(typeof(MigrationCompleted));

        s.WithHouse(h => h.VmRunsOn(Imac))
            .When(TheHost.Changed(Imac))
            .Then(typeof(HouseChanged), typeof(DisplayAttachRequested));

        var local = s.The<DisplayAttachRequested>();
        Assert.Equal((Imac, "spice://imac:5930"), (local.Host, local.DisplayUri));
        Assert.Equal("alice-desktop runs on imac now: its screen switches from showing it from basement to the local display", local.Reason);
        Assert.Equal("imac is asked to show alice-desktop: alice-desktop runs on imac now: its screen switches from showing it from basement to the local display",
            Presence.Domain.Words.EventText.Of(local));
    }

    [Fact]
    public void it_switches_once()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed), Agent.TargetIsReady(), Agent.SourceCompletes());
        s.WithHouse(h => h.VmRunsOn(Imac)).Given(TheHost.Changed(Imac), Agent.SeatReports(ReportState.Completed));

        s.When(Alice.IsActiveAt(Imac)).Then(typeof(SignalRecorded)).ThenNoCommands();
    }
}
