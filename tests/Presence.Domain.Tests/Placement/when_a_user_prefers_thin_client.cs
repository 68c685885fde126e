using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

public class when_a_user_prefers_thin_client
{
    private static Scenario ThinClientAlice() =>
        Scenario.AliceOnTheBasementServer().WithPolicy(p => p.Prefers(PreferredMode.ThinClient));

    [Fact]
    public void the_seat_shows_her_vm_where_it_runs()
    {
        var s = ThinClientAlice()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(PlacementMode.AttachDisplay, decision.Mode);
        Assert.Equal(Rules.PreferThinClient, decision.Rule);
        Assert.Empty(decision.Rejected);
        Assert.Equal("alice sat down at imac; alice prefers thin-client mode, so imac shows it while it keeps running on basement", decision.Reason);

        var attach = s.The<DisplayAttachRequested>();
        Assert.Equal(Imac, attach.Host);
        Assert.Equal(Display, attach.DisplayUri);
    }

    [Fact]
    public void even_a_seat_with_room_to_run_it_only_shows_it()
    {
        var s = ThinClientAlice().When(Alice.LogsInAt(Laptop));

        Assert.Empty(s.Events.OfType<IncomingRequested>());
        Assert.Null(s.State!.Migration);
    }

    [Fact]
    public void a_seat_already_showing_it_is_left_alone()
    {
        // A lock takes her off the seat but, by default, leaves her desktop on the screen (a logout would take it off).
        ThinClientAlice()
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed), Alice.LocksAt(Imac))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));
    }

    [Fact]
    public void at_the_host_running_it_there_is_nothing_to_show()
    {
        ThinClientAlice()
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));
    }

    [Fact]
    public void a_seat_whose_agent_is_offline_cannot_show_it()
    {
        var s = ThinClientAlice()
            .WithHouse(h => h.Offline(Imac))
            .When(Alice.LogsInAt(Imac));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.AgentOnline, suppressed.Rule);
        Assert.Equal([new RejectedAlternative(Imac, Rules.AgentOnline, "imac: agent is offline, so it cannot show alice-desktop")], suppressed.Rejected);
    }
}
