using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>
/// Leaving takes the session with it: a console logout at a screen that shows her desktop takes it off (a
/// `detach_display` to that screen's agent); a lock does so only where the house says so (DetachOnLock), because a
/// lock screen shows nothing and the person is often back in a minute.
/// </summary>
public class when_she_leaves_the_screen
{
    /// <summary>Thin-client alice at the iMac, which shows her desktop (attach answered).</summary>
    private static Scenario ShownAtTheImac(Func<PolicySettings, PolicySettings>? settings = null) =>
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(settings ?? (x => x))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed));

    [Fact]
    public void logging_out_detaches_the_display_from_that_screen()
    {
        var s = ShownAtTheImac()
            .When(Alice.LogsOutAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        var detach = s.The<DisplayDetachRequested>();
        Assert.Equal((Imac, Vm, "alice logged out at imac"), (detach.Host, detach.Vm, detach.Reason));
        Assert.Equal([new CommandToAgent(Imac, detach.CommandId, CommandKind.DetachDisplay, Vm)], s.Commands);
        Assert.Null(s.State!.ShownOn);
        Assert.Null(s.State.DisplayedOn);
    }

    [Fact]
    public void locking_leaves_the_display_by_default()
    {
        var s = ShownAtTheImac()
            .When(Alice.LocksAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged))
            .ThenNoCommands();

        Assert.Equal(Imac, s.State!.ShownOn);
    }

    [Fact]
    public void locking_detaches_it_where_the_house_says_so()
    {
        var s = ShownAtTheImac(x => x with { DetachOnLock = true })
            .When(Alice.LocksAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        Assert.Equal("alice locked the screen at imac", s.The<DisplayDetachRequested>().Reason);
    }

    [Fact]
    public void logging_out_while_the_attach_is_unanswered_still_detaches_it()
    {
        // The agent may show it any moment: its queue holds the attach, then the detach.
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.LogsOutAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        Assert.Null(s.State!.PendingDisplay);
    }

    [Fact]
    public void the_answer_to_an_attach_detached_meanwhile_changes_nothing()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac));
        var attach = s.State!.PendingDisplay!;
        s.Given(Alice.LogsOutAt(Imac))
            .When(Agent.Reports(Imac, attach.CommandId, ReportState.Completed))
            .ThenNothing();
    }

    [Fact]
    public void logging_out_after_idling_away_still_detaches_it()
    {
        // Idling took her off the seat but left her desktop on the screen; the logout takes it off.
        var s = ShownAtTheImac(x => x with { IdleAway = Duration.FromMinutes(10) })
            .Given(Alice.IsIdleAt(Imac, Duration.FromMinutes(11)))
            .When(Alice.LogsOutAt(Imac))
            .Then(typeof(SignalRecorded), typeof(DisplayDetachRequested));

        Assert.Null(s.State!.Seat);
    }

    [Fact]
    public void a_remote_logout_leaves_the_screen_alone()
    {
        ShownAtTheImac()
            .When(Alice.Session(Imac, EvidenceDetails.Session.Logout, EvidenceDetails.Session.Remote))
            .ThenNoCommands();
    }

    [Fact]
    public void logging_out_elsewhere_leaves_the_screen_alone()
    {
        ShownAtTheImac()
            .When(Alice.LogsOutAt(Laptop))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();
    }

    [Fact]
    public void sitting_down_at_another_screen_takes_it_off_the_one_she_left()
    {
        var s = ShownAtTheImac()
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayDetachRequested), typeof(DisplayAttachRequested));

        Assert.Equal([CommandKind.DetachDisplay, CommandKind.AttachDisplay], s.Commands.Select(c => c.Kind));
        Assert.Equal([Imac, Laptop], s.Commands.Select(c => c.Host));
        Assert.Equal(Laptop, s.State!.ShownOn);
    }

    [Fact]
    public void sitting_down_where_the_vm_runs_takes_it_off_the_screen_she_left()
    {
        var s = ShownAtTheImac()
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        Assert.Equal("alice sat down at basement, where alice-desktop runs", s.The<DisplayDetachRequested>().Reason);
    }
}
