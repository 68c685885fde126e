using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>
/// Hard rules filter: a seat that may not, cannot or has no room to run the VM gets the display instead, and the
/// decision lists the alternative it turned down and why. When the seat cannot even show it, the move is suppressed.
/// </summary>
public class when_the_seat_cannot_run_the_vm
{
    [Fact]
    public void too_little_free_memory_falls_back_to_showing_the_vm_there()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(PlacementMode.AttachDisplay, decision.Mode);
        Assert.Equal(Rules.ThinClientFallback, decision.Rule);
        Assert.Equal(Basement, decision.From);
        Assert.Equal(Imac, decision.To);
        Assert.Equal(Duration.FromSeconds(2), decision.EstimatedDuration);
        Assert.Equal([new RejectedAlternative(Imac, Rules.FreeMemory, "imac: 3 GiB free, needs 8 GiB")], decision.Rejected);
        Assert.Equal(
            "alice sat down at imac; alice-desktop cannot run on imac (imac: 3 GiB free, needs 8 GiB), so imac shows it while it keeps running on basement",
            decision.Reason);
        Assert.Null(s.State!.Migration);
    }

    [Theory]
    [InlineData(2560, "imac: 2.5 GiB free, needs 8 GiB")]
    [InlineData(512, "imac: 512 MiB free, needs 8 GiB")]
    [InlineData(0, "imac: 0 MiB free, needs 8 GiB")]
    public void the_memory_reason_reads_in_gib_or_mib(int freeMb, string reason)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, freeMb))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(reason, Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void a_host_configured_not_to_run_vms_only_shows_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.CannotRunVms(Imac))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(PlacementMode.AttachDisplay, s.The<PlacementDecided>().Mode);
        Assert.Equal([new RejectedAlternative(Imac, Rules.CanRunVms, "imac: configured not to run VMs")], s.The<PlacementDecided>().Rejected);
    }

    [Fact]
    public void a_host_the_policy_does_not_know_cannot_run_it_either()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p with { Hosts = p.Hosts.Where(h => h.Name != Imac).ToList() })
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Rules.CanRunVms, Assert.Single(s.The<PlacementDecided>().Rejected).Rule);
    }

    [Fact]
    public void a_source_whose_agent_is_offline_cannot_send_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.Offline(Basement))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested));

        Assert.Equal(
            [new RejectedAlternative(Basement, Rules.SourceAgentOnline, "basement: agent is offline, so it cannot send alice-desktop")],
            s.The<PlacementDecided>().Rejected);
    }

    [Fact]
    public void a_seat_whose_agent_is_offline_can_neither_run_nor_show_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.Offline(Imac))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.AgentOnline, suppressed.Rule);
        Assert.Equal(Imac, suppressed.Wanted);
        Assert.Equal(Vm, suppressed.Vm);
        Assert.Equal(["ev-1"], suppressed.EvidenceIds);
        Assert.Equal(s.Policy.Version, suppressed.PolicyVersion);
        Assert.Equal("alice sat down at imac, but no agent there can show or run alice-desktop", suppressed.Reason);
        // One host, one rejection: an offline agent can neither run nor show it, and saying so twice adds nothing.
        var rejected = Assert.Single(suppressed.Rejected);
        Assert.Equal((Imac, Rules.AgentOnline, "imac: agent is offline"), (rejected.Host, rejected.Rule, rejected.Reason));
        Assert.Equal(s.State!.LastDecision!.Id, suppressed.DecisionId);
    }

    [Fact]
    public void a_vm_with_no_display_address_cannot_be_shown_and_the_move_is_suppressed()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib).NoDisplayUri())
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(MoveSuppressed));

        var suppressed = s.The<MoveSuppressed>();
        Assert.Equal(Rules.NoDisplay, suppressed.Rule);
        Assert.Equal("alice-desktop cannot move to imac and has no display address to show it there", suppressed.Reason);
        Assert.Equal([new RejectedAlternative(Imac, Rules.FreeMemory, "imac: 3 GiB free, needs 8 GiB")], suppressed.Rejected);
    }

    [Fact]
    public void the_display_address_comes_from_the_inventory_before_the_settings()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.VmDisplay("vnc://configured:5900"))
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Display, s.The<DisplayAttachRequested>().DisplayUri);
    }

    [Fact]
    public void without_one_in_the_inventory_the_configured_display_address_is_used()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.VmDisplay("vnc://configured:5900"))
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib).NoDisplayUri())
            .When(Alice.LogsInAt(Imac));

        Assert.Equal("vnc://configured:5900", s.The<DisplayAttachRequested>().DisplayUri);
    }

    [Fact]
    public void the_display_request_goes_to_the_seat_under_the_same_decision()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Imac));

        var attach = s.The<DisplayAttachRequested>();
        Assert.Equal(s.The<PlacementDecided>().DecisionId, attach.DecisionId);
        Assert.Equal(Imac, attach.Host);
        Assert.Equal(Vm, attach.Vm);
        Assert.Equal(new PendingDisplay(attach.CommandId, Imac), s.State!.PendingDisplay);
    }
}
