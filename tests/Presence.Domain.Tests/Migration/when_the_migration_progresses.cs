using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Migration;

/// <summary>Progress is recorded per whole percent, so a chatty agent cannot flood the stream.</summary>
public class when_the_migration_progresses
{
    private const long Total = 8L * 1024 * 1024 * 1024;

    private static long Remaining(double percent) => (long)(Total * (100 - percent) / 100);

    private static Scenario Migrating() =>
        Scenario.AliceOnTheBasementServer().Given(Alice.LogsInAt(Imac), Agent.TargetIsReady());

    [Fact]
    public void the_first_report_is_recorded()
    {
        var s = Migrating()
            .When(Agent.SourceReports(ReportState.Progress, r => r with
            {
                TotalBytes = Total, RemainingBytes = Remaining(25), TransferredBytes = Total / 4, DirtyPagesRate = 1200, Mbps = 940.5,
            }))
            .Then(typeof(MigrationProgressed));

        var progress = s.The<MigrationProgressed>();
        Assert.Equal(s.Pending.Id, progress.MigrationId);
        Assert.Equal(25.0, progress.Percent);
        Assert.Equal(Total / 4, progress.TransferredBytes);
        Assert.Equal(Remaining(25), progress.RemainingBytes);
        Assert.Equal(1200, progress.DirtyPagesRate);
        Assert.Equal(940.5, progress.Mbps);
        Assert.Equal(25.0, s.Pending.Percent);
    }

    [Fact]
    public void reports_within_the_same_whole_percent_are_not_recorded()
    {
        Migrating()
            .Given(Agent.SourceProgress(Total, Remaining(10)))
            .When(Agent.SourceProgress(Total, Remaining(10.6)))
            .ThenNothing();
    }

    [Fact]
    public void the_next_whole_percent_is_recorded()
    {
        var s = Migrating()
            .Given(Agent.SourceProgress(Total, Remaining(10)), Agent.SourceProgress(Total, Remaining(10.6)))
            .When(Agent.SourceProgress(Total, Remaining(11.2)))
            .Then(typeof(MigrationProgressed));

        Assert.Equal(11.2, s.The<MigrationProgressed>().Percent);
    }

    [Fact]
    public void a_flood_of_reports_becomes_one_event_per_percent()
    {
        var s = Migrating();
        var before = s.History.Count;
        for (var tenth = 1; tenth <= 300; tenth++)
        {
            s.Given(Agent.SourceProgress(Total, Remaining(tenth / 10.0)));
        }

        // 300 reports from 0.1 % to 30 %: one event on entering each whole percent, 0 to 30.
        var recorded = s.History.Skip(before).OfType<MigrationProgressed>().Select(p => p.Percent!.Value).ToList();
        Assert.Equal(31, recorded.Count);
        Assert.Equal(Enumerable.Range(0, 31).Select(i => (double)i), recorded.Select(Math.Floor));
    }

    [Fact]
    public void progress_going_backwards_as_pages_are_dirtied_is_not_recorded()
    {
        Migrating()
            .Given(Agent.SourceProgress(Total, Remaining(60)))
            .When(Agent.SourceProgress(Total, Remaining(45)))
            .ThenNothing();
    }

    [Fact]
    public void the_percent_can_come_from_transferred_bytes_alone()
    {
        var s = Migrating()
            .When(Agent.SourceReports(ReportState.Progress, r => r with { TotalBytes = Total, TransferredBytes = Total / 2 }));

        Assert.Equal(50.0, s.The<MigrationProgressed>().Percent);
    }

    [Fact]
    public void a_report_without_totals_says_nothing_measurable()
    {
        Migrating()
            .When(Agent.SourceReports(ReportState.Progress, r => r with { TransferredBytes = 1000 }))
            .ThenNothing();
    }

    [Fact]
    public void progress_for_the_migrate_command_from_the_target_is_ignored()
    {
        var s = Migrating();
        s.When(Agent.Reports(Imac, s.Pending.MigrateCommandId!, ReportState.Progress, r => r with { TotalBytes = Total, RemainingBytes = 0 }))
            .ThenNothing();
    }

    /// <summary>One report a second, each a whole percent further, from 1 % to 30 %: the percents recorded.</summary>
    private static List<double> RecordedWith(Duration interval)
    {
        var s = Migrating().WithSettings(p => p with { ProgressInterval = interval });
        var before = s.History.Count;
        for (var percent = 1; percent <= 30; percent++)
        {
            s.Given(Agent.SourceProgress(Total, Remaining(percent)));
        }

        return s.History.Skip(before).OfType<MigrationProgressed>().Select(p => p.Percent!.Value).ToList();
    }

    [Fact]
    public void with_an_interval_progress_is_recorded_at_most_that_often()
    {
        Assert.Equal([1, 4, 7, 10, 13, 16, 19, 22, 25, 28], RecordedWith(Duration.FromSeconds(3)));
    }

    [Fact]
    public void with_an_interval_five_points_are_recorded_sooner()
    {
        Assert.Equal([1, 6, 11, 16, 21, 26], RecordedWith(Duration.FromSeconds(10)));
    }

    [Fact]
    public void with_an_interval_completion_is_still_recorded_at_once()
    {
        var s = Migrating().WithSettings(p => p with { ProgressInterval = Duration.FromMinutes(1) })
            .Given(Agent.SourceProgress(Total, Remaining(1)), Agent.SourceProgress(Total, Remaining(2)));
        Assert.Single(s.History.OfType<MigrationProgressed>());

        s.When(Agent.SourceCompletes()).Then(typeof(MigrationCompleted));
    }
}
