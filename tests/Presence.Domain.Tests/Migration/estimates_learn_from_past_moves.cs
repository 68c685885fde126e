using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>
/// The cost model: before any move the estimate is memory over the link rate plus two seconds; after a completed
/// move that reported its total time, it is this VM's measured seconds per GiB, averaged with earlier measurements.
/// </summary>
public class estimates_learn_from_past_moves
{
    /// <summary>alice-desktop (8 GiB) moved to the iMac in <paramref name="totalTimeMs"/>, then alice sits at the laptop.</summary>
    private static Scenario MovedOnceIn(long? totalTimeMs) => Scenario.AliceOnTheBasementServer()
        .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(),
            Agent.SourceReports(ReportState.Completed, r => r with { TotalTimeMs = totalTimeMs }))
        .WithHouse(h => h.VmRunsOn(Imac));

    [Fact]
    public void the_next_decision_uses_the_measured_seconds_per_gib()
    {
        var s = MovedOnceIn(16_000).When(Alice.LogsInAt(Laptop));

        Assert.Equal(2.0, s.State!.SecondsPerGib);
        Assert.Equal(Duration.FromSeconds(16), s.The<PlacementDecided>().EstimatedDuration);
        Assert.EndsWith("moves from imac to laptop, about 16 s", s.The<PlacementDecided>().Reason);
    }

    [Fact]
    public void a_second_measurement_is_averaged_with_the_first()
    {
        var s = MovedOnceIn(16_000)
            .Given(Alice.LogsInAt(Laptop), Agent.TargetIsReady(), Agent.SourceCompletes(totalTimeMs: 32_000))
            .WithHouse(h => h.VmRunsOn(Laptop));

        Assert.Equal(3.0, s.State!.SecondsPerGib);

        s.When(Alice.LogsInAt(Imac));
        Assert.Equal(Duration.FromSeconds(24), s.The<PlacementDecided>().EstimatedDuration);
    }

    [Fact]
    public void a_move_that_reported_no_time_teaches_nothing()
    {
        var s = MovedOnceIn(null).When(Alice.LogsInAt(Laptop));

        Assert.Null(s.State!.SecondsPerGib);
        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / 300.0), s.The<PlacementDecided>().EstimatedDuration);
    }

    [Fact]
    public void a_failed_move_teaches_nothing()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceReports(ReportState.Failed, r => r with { TotalTimeMs = 1_000 }))
            .When(Alice.LogsInAt(Laptop));

        Assert.Null(s.State!.SecondsPerGib);
    }

    [Fact]
    public void a_measured_slow_move_counts_against_moving()
    {
        // 40 s per GiB: 8 GiB take over five minutes, slower than SlowMigration, so −1 point.
        var s = MovedOnceIn(320_000)
            .WithSettings(p => p with { MinimumBenefit = 2 })
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal(Rules.ThinClientFallback, s.The<PlacementDecided>().Rule);
        Assert.Contains("−1 slow move", Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }

    [Fact]
    public void pages_the_vm_dirtied_last_time_slow_the_estimate_of_the_next_move()
    {
        // 3,000 pages of 4 KiB a second is about 98 Mbit/s that must be sent again, out of the laptop's 300.
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(),
                Agent.SourceReports(ReportState.Progress, r => r with { TotalBytes = 100, RemainingBytes = 50, DirtyPagesRate = 3000 }),
                Agent.SourceReports(ReportState.Failed))
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal(3000, s.State!.DirtyPagesRate);
        var dirtyMbps = 3000 * 4096 * 8 / 1_000_000.0;
        Assert.Equal(Duration.FromSeconds(2 + 8192 * 8 / (300 - dirtyMbps)), s.The<PlacementDecided>().EstimatedDuration);
    }

    [Fact]
    public void a_vm_dirtying_faster_than_the_link_still_gets_an_estimate_of_a_tenth_of_it()
    {
        Assert.Equal(
            Duration.FromSeconds(2 + 8192 * 8 / 30.0),
            UserDecider.EstimateLiveMigration(8192, 300, measuredSecondsPerGib: null, dirtyPagesRate: 1_000_000));
    }
}
