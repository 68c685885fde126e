using Presence.Benchmarks.EndToEnd;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Benchmarks;

/// <summary>
/// CI's dry run of the end-to-end house benchmark (`dotnet run -c Release --project tests/Presence.Benchmarks -- house`):
/// the same code with tiny counts, so it cannot rot. Nothing here is timed or held to a speed; the figures come from
/// a real run (docs/benchmarks.md). What is checked: every row is there with a number that can be true, and what the
/// benchmark relies on to measure (every signal stored once) held.
/// </summary>
public sealed class the_house_benchmark_runs_once(ITestOutputHelper output)
{
    private static readonly string[] Rows =
    [
        "raw_1", "raw_16", "raw_copy", "rss_start", "rss_idle", "warm_p50", "warm_p95", "warm_p99", "first", "stage_in", "stage_store", "stage_out", "stage_signed", "stage_wire", "first_in", "first_store", "first_out",
        "together_p50", "together_p95", "together_last",
        "ingest_broker", "ingest_rate", "ingest_ratio", "ingest_ratio_1", "ingest_lost", "ingest_twice", "ingest_drops",
        "ingest_again_broker", "ingest_again_rate", "ingest_again_ratio", "ingest_again_ratio_1", "ingest_again_lost", "ingest_again_twice", "ingest_again_drops",
        "office_start", "office_agents", "office_broker", "office_rate", "office_ratio", "office_ratio_1", "office_lost", "office_twice", "office_drops",
        "office_again_broker", "office_again_rate", "office_again_ratio", "office_again_ratio_1", "office_again_lost", "office_again_twice", "office_again_drops",
        "office_rss", "office_vs_house",
        "rss_after", "rss_peak",
        "pixel_thin_p50", "pixel_thin_p95", "pixel_local_p50", "pixel_local_p95", "pixel_latency_p50", "pixel_latency_p95",
        "replay_fold", "replay_decide", "replay_pg", "replay_raw", "replay_pg_ratio",
    ];

    [Fact]
    public async Task with_tiny_counts_every_row_has_a_figure()
    {
        var options = new HouseBenchOptions
        {
            Computers = 3,
            Logins = 4,
            Together = 2,
            Signals = 60,
            Office = 6,
            RawDuration = TimeSpan.FromMilliseconds(300),
            CopyRows = 500,
            Idle = TimeSpan.FromSeconds(1),
            ReplayDays = 1,
            ReplayPeople = 2,
            WorkDirectory = PostgresCluster.NewScratchDirectory("house-bench"),
        };
        var log = new StringWriter();

        var report = await HouseBenchmark.RunAsync(options, log);
        output.WriteLine(log.ToString());
        output.WriteLine(report.Markdown());

        Assert.Equal(Rows.Order(), report.Figures.Select(f => f.Key).Order());
        Assert.All(report.Figures, f => Assert.True(double.IsFinite(f.Value), $"{f.Key} is {f.Value}"));
        // Rates, durations and memory can only be positive; the stages are differences of two clocks and only finite.
        Assert.All(report.Figures.Where(f => !f.Key.StartsWith("stage_", StringComparison.Ordinal) && !CountsOfNothingWrong(f.Key)),
            f => Assert.True(f.Value > 0, $"{f.Key} is {f.Value}"));
        Assert.Empty(report.Failures);
        Assert.Equal(0, report["ingest_lost"].Value);
        Assert.Equal(0, report["ingest_twice"].Value);
        Assert.Equal(0, report["ingest_again_lost"].Value);
        Assert.Equal(0, report["ingest_again_twice"].Value);
        Assert.Equal(0, report["office_lost"].Value);
        Assert.Equal(0, report["office_twice"].Value);
        Assert.Equal(0, report["office_again_lost"].Value);
        Assert.Equal(0, report["office_again_twice"].Value);
        // The second burst's rows follow the first's, and the office's stand beside both, in one block.
        var keys = report.Figures.Select(f => f.Key).ToList();
        Assert.Equal(keys.IndexOf("ingest_drops") + 1, keys.IndexOf("ingest_again_broker"));
        Assert.Equal(keys.IndexOf("ingest_again_drops") + 1, keys.IndexOf("office_start"));
        Assert.Equal(keys.IndexOf("office_drops") + 1, keys.IndexOf("office_again_broker"));
        Assert.True(report["warm_p50"].Value <= report["warm_p95"].Value && report["warm_p95"].Value <= report["warm_p99"].Value, "percentiles out of order");
        Assert.True(report["rss_idle"].Value <= report["rss_peak"].Value, "the peak RSS is below the idle one");
        Assert.Contains("cores", report.Machine, StringComparison.Ordinal);
        var table = report.Markdown();
        Assert.All(report.Figures, f => Assert.Contains(f.What, table, StringComparison.Ordinal));
    }

    /// <summary>Lost, stored twice, connections dropped: counts whose right value is 0.</summary>
    private static bool CountsOfNothingWrong(string key) =>
        key.EndsWith("_lost", StringComparison.Ordinal) || key.EndsWith("_twice", StringComparison.Ordinal) || key.EndsWith("_drops", StringComparison.Ordinal);
}
