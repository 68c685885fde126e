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

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
