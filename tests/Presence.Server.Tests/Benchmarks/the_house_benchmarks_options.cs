using Presence.Benchmarks.EndToEnd;

namespace Presence.Server.Tests.Benchmarks;

public sealed class the_house_benchmarks_options : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "presence-bench-options-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void a_work_folder_holding_a_previous_run_is_refused_by_name()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "cluster"));

        var e = Assert.Throws<ArgumentException>(() => HouseBenchOptions.Parse(["--work-dir", _folder]));

        Assert.Contains($"--work-dir '{_folder}' is not empty", e.Message, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_folder, "cluster")), "the refused folder was touched");
    }

    [Fact]
    public void an_empty_or_new_work_folder_is_taken()
    {
        Assert.Equal(_folder, HouseBenchOptions.Parse(["--work-dir", _folder]).WorkDirectory);
        Directory.CreateDirectory(_folder);
        Assert.Equal(_folder, HouseBenchOptions.Parse(["--work-dir", _folder]).WorkDirectory);
    }

    [Fact]
    public void a_count_that_is_not_a_number_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => HouseBenchOptions.Parse(["--signals", "lots"]));

        Assert.Equal("--signals 'lots' must be a positive whole number", e.Message);
    }

    [Fact]
    public void more_people_at_once_than_seats_besides_the_warm_paths_user_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => HouseBenchOptions.Parse(["--computers", "5", "--together", "5"]));

        Assert.StartsWith("--together 5 needs as many seats", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, HouseBenchOptions.Parse(["--computers", "5", "--together", "4"]).Together);
    }

    [Theory]
    // What the server's runtimeconfig names (workstation GC since it was set for idle memory): no other figure passes.
    [InlineData(false, "--people", "3", "measured with workstation GC only")]
    [InlineData(true, "--people", "many", "--people 'many' must be a positive whole number")]
    [InlineData(true, "--weeks", "3", "unknown option '--weeks'")]
    public async Task the_replays_own_process_refuses_what_it_cannot_measure_by_name(bool asTheServerRuns, string option, string value, string message)
    {
        var serverGc = ReplayYear.TheServersCollectorIsServerGc();
        var (exitCode, output, errors) = await ReplayYear.RunAsync([option, value], asTheServerRuns ? serverGc : !serverGc);

        Assert.Equal(2, exitCode);
        Assert.Contains(message, errors, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
