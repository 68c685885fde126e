using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>alice prefers her VM local: when she sits down elsewhere and the seat can run it, it live-migrates there.</summary>
public class when_a_user_logs_in_at_another_seat
{
    [Fact]
    public void her_vm_is_live_migrated_to_the_seat()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(AliceName, decision.User);
        Assert.Equal(Vm, decision.Vm);
        Assert.Equal(Basement, decision.From);
        Assert.Equal(Imac, decision.To);
        Assert.Equal(PlacementMode.LiveMigration, decision.Mode);
        Assert.Equal(Rules.FollowSeat, decision.Rule);
        Assert.Equal(["ev-1"], decision.EvidenceIds);
        Assert.Empty(decision.Rejected);
        Assert.Equal(s.Policy.Version, decision.PolicyVersion);
        Assert.Equal(s.Now, decision.At);
        Assert.StartsWith("d-", decision.DecisionId);
    }

    [Fact]
    public void the_target_is_asked_to_prepare_for_the_vm_first()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Imac));

        var incoming = s.The<IncomingRequested>();
        Assert.Equal(s.The<PlacementDecided>().DecisionId, incoming.DecisionId);
        Assert.StartsWith("m-", incoming.MigrationId);
        Assert.Equal(Vm, incoming.Vm);
        Assert.Equal(Basement, incoming.Source);
        Assert.Equal(Imac, incoming.Target);
        Assert.Equal(8 * Gib, incoming.MemoryMb);
        Assert.NotEmpty(incoming.CommandId);

        var pending = s.Pending;
        Assert.Equal(incoming.MigrationId, pending.Id);
        Assert.Equal(Phases.Preparing, pending.Phase);
        Assert.Equal(incoming.CommandId, pending.PrepareCommandId);
        Assert.Null(pending.MigrateCommandId);
        Assert.Equal(SessionMode.Moving, s.State!.Mode);
    }

    [Fact]
    public void the_reason_says_what_moves_where_and_for_how_long()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Imac));

        var decision = s.The<PlacementDecided>();
        // 8 GiB over 1000 Mbit/s plus two seconds of set-up
        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / 1000.0), decision.EstimatedDuration);
        Assert.Equal("alice sat down at imac; alice-desktop (8 GiB) moves from basement to imac, about 68 s", decision.Reason);
    }

    [Fact]
    public void the_slower_link_sets_the_estimate()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(Laptop));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / 300.0), decision.EstimatedDuration);
        Assert.EndsWith("about 3.7 min", decision.Reason);
    }

    [Fact]
    public void a_configured_bandwidth_cap_slows_the_estimate()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p with { Migration = new MigrationSettings(MaxBandwidthMbps: 100) })
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / 100.0), s.The<PlacementDecided>().EstimatedDuration);
    }

    [Theory]
    [InlineData("login")]
    [InlineData("unlock")]
    [InlineData("active")]
    public void any_console_evidence_that_seats_her_moves_the_vm(string state)
    {
        Scenario.AliceOnTheBasementServer()
            .When(Alice.Session(Imac, state))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void at_the_host_where_the_vm_already_runs_there_is_nothing_to_decide()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Equal(SessionMode.Local, s.State!.Mode);
    }

    [Fact]
    public void a_host_just_big_enough_is_fine()
    {
        Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 8 * Gib))
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));
    }

    [Fact]
    public void each_decision_gets_fresh_ids()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetReports(ReportState.Failed, "no room"))
            .When(Alice.LogsInAt(Laptop));

        var first = s.History.OfType<IncomingRequested>().First();
        var second = s.The<IncomingRequested>();
        Assert.NotEqual(first.MigrationId, second.MigrationId);
        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.NotEqual(first.CommandId, second.CommandId);
    }
}
