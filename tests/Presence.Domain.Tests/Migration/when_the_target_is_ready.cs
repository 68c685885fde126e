using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>Phase 1 ends when the target listens for the VM; phase 2 then tells the source to send it there.</summary>
public class when_the_target_is_ready
{
    private static Scenario Preparing(string seat = Imac) => Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(seat));

    [Fact]
    public void the_source_is_told_to_send_the_vm_to_the_waiting_target()
    {
        var s = Preparing()
            .When(Agent.TargetIsReady("tcp:192.168.1.20:49152"))
            .Then(typeof(IncomingReady), typeof(MigrationRequested));

        var migrationId = s.History.OfType<IncomingRequested>().Single().MigrationId;
        Assert.Equal(new IncomingReady(AliceName, migrationId, Imac, "tcp:192.168.1.20:49152", s.Now), s.The<IncomingReady>());

        var migrate = s.The<MigrationRequested>();
        Assert.Equal(migrationId, migrate.MigrationId);
        Assert.Equal(Vm, migrate.Vm);
        Assert.Equal(Basement, migrate.Source);
        Assert.Equal(Imac, migrate.Target);
        Assert.Equal("tcp:192.168.1.20:49152", migrate.TargetUri);
        Assert.Equal(1000, migrate.MaxBandwidthMbps);
        Assert.Equal(300, migrate.DowntimeLimitMs);
        Assert.NotEqual(s.Pending.PrepareCommandId, migrate.CommandId);

        Assert.Equal(Phases.Migrating, s.Pending.Phase);
        Assert.Equal(migrate.CommandId, s.Pending.MigrateCommandId);
        Assert.Equal("tcp:192.168.1.20:49152", s.Pending.IncomingUri);
    }

    [Fact]
    public void the_bandwidth_is_the_slower_link_of_the_two()
    {
        var s = Preparing(Laptop).When(Agent.TargetIsReady());

        Assert.Equal(300, s.The<MigrationRequested>().MaxBandwidthMbps);
    }

    [Fact]
    public void the_configured_limits_are_passed_on()
    {
        var s = Preparing()
            .WithPolicy(p => p with { Migration = new MigrationSettings(DowntimeLimitMs: 500, MaxBandwidthMbps: 200) })
            .When(Agent.TargetIsReady());

        Assert.Equal(200, s.The<MigrationRequested>().MaxBandwidthMbps);
        Assert.Equal(500, s.The<MigrationRequested>().DowntimeLimitMs);
    }

    [Fact]
    public void a_second_ready_does_nothing()
    {
        var s = Preparing();
        var prepare = s.Pending.PrepareCommandId;

        s.Given(Agent.TargetIsReady())
            .When(Agent.Reports(Imac, prepare, ReportState.Ready, r => r with { IncomingUri = Agent.IncomingUri }))
            .ThenNothing();

        Assert.Single(s.History.OfType<MigrationRequested>());
    }

    [Fact]
    public void ready_without_an_address_is_not_ready()
    {
        var s = Preparing()
            .When(Agent.TargetReports(ReportState.Ready))
            .ThenNothing();

        Assert.Equal(Phases.Preparing, s.Pending.Phase);
    }

    [Theory]
    [InlineData(ReportState.Accepted)]
    [InlineData(ReportState.Progress)]
    public void an_acknowledgement_or_progress_from_the_target_changes_nothing(ReportState state)
    {
        var s = Preparing()
            .When(Agent.TargetReports(state))
            .ThenNothing();

        Assert.Equal(Phases.Preparing, s.Pending.Phase);
    }
}
