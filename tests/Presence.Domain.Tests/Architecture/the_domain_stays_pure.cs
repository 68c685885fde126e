namespace Presence.Domain.Tests.Architecture;

/// <summary>Presence.Domain is signals in, events out: no event store, no bus, no broker, no database.</summary>
public class the_domain_stays_pure
{
    [Theory]
    [InlineData("Marten")]
    [InlineData("Wolverine")]
    [InlineData("JasperFx")]
    [InlineData("MQTTnet")]
    [InlineData("Npgsql")]
    public void it_references_no_infrastructure_assembly(string prefix)
    {
        var references = typeof(UserDecider).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.Contains("NodaTime", references);
        Assert.DoesNotContain(references, name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Time comes in as an argument and ids from a seed: a decider that read the clock, rolled dice or touched a file
    /// would decide differently on replay.
    /// </summary>
    [Theory]
    [InlineData("DateTime.Now")]
    [InlineData("DateTime.UtcNow")]
    [InlineData("DateTime.Today")]
    [InlineData("DateTimeOffset.Now")]
    [InlineData("DateTimeOffset.UtcNow")]
    [InlineData("SystemClock")]
    [InlineData("GetCurrentInstant")]
    [InlineData("Stopwatch")]
    [InlineData("TimeProvider")]
    [InlineData("Guid.NewGuid")]
    [InlineData("Random")]
    [InlineData("System.IO")]
    [InlineData("File.")]
    [InlineData("Directory.")]
    [InlineData("Console.")]
    [InlineData("Environment.")]
    [InlineData("HttpClient")]
    [InlineData("Task.Delay")]
    [InlineData("Thread.Sleep")]
    public void its_source_reads_no_clock_and_does_no_io(string api)
    {
        var offending = DomainSources()
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, number: i + 1)))
            .Where(l => !l.line.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.line.Contains(api, StringComparison.Ordinal))
            .Select(l => $"{Path.GetFileName(l.file)}:{l.number}: {l.line.Trim()}")
            .ToList();

        Assert.True(offending.Count == 0, $"{api} in the domain:\n{string.Join("\n", offending)}");
    }

    private static IEnumerable<string> DomainSources()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Presence.sln")))
        {
            directory = directory.Parent;
        }

        var source = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("no Presence.sln above the tests"), "src", "Presence.Domain");
        var files = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        return files;
    }
}
