using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Hosting;
using Presence.Server.Schema;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>eventstore/schema/presence.sql is what the current configuration exports, byte for byte.</summary>
public sealed class the_schema_artifact
{
    private static string Repository => SchemaArtifact.FindRepository(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no Presence.sln above {AppContext.BaseDirectory}");

    private static string Exported()
    {
        // The default house (appsettings.json beside the binaries), as `schema` exports it, named so that a
        // PRESENCE_CONFIG in the environment cannot swap it; no database is opened.
        var builder = PresenceApp.CreateBuilder(["--config", Path.Combine(AppContext.BaseDirectory, "appsettings.json")]);
        PresenceApp.ConfigureServices(builder, "Host=127.0.0.1;Port=1;Database=presence_unopened");
        using var app = builder.Build();
        return SchemaArtifact.Export(app.Services.GetRequiredService<IDocumentStore>());
    }

    [Fact]
    public void the_committed_ddl_is_current()
    {
        var path = Path.Combine(Repository, SchemaArtifact.RelativePath);
        Assert.True(File.Exists(path), $"{SchemaArtifact.RelativePath} is missing; create it with: {SchemaArtifact.Regenerate}");

        var committed = File.ReadAllText(path);
        var exported = Exported();

        Assert.True(committed == exported,
            $"{SchemaArtifact.RelativePath} is stale: the configuration exports other DDL. Regenerate it with: {SchemaArtifact.Regenerate}");
        Assert.Contains("CREATE TABLE IF NOT EXISTS presence.mt_events", committed);
        Assert.Contains("CREATE TABLE IF NOT EXISTS presence.mt_streams", committed);
        Assert.Contains("CREATE TABLE IF NOT EXISTS presence.mt_doc_usersaga", committed);
    }

    [Fact]
    public void the_export_is_the_same_every_time()
    {
        Assert.Equal(Exported(), Exported());
    }

    [Fact]
    public async Task the_schema_verb_checks_the_file_and_says_how_to_fix_a_stale_one()
    {
        var stale = Path.Combine(PostgresCluster.NewScratchDirectory("schema"), "presence.sql");
        Directory.CreateDirectory(Path.GetDirectoryName(stale)!);
        await File.WriteAllTextAsync(stale, "-- an old schema\n");

        var current = await PresenceCli.RunAsync("schema", "--check", "--output", Path.Combine(Repository, SchemaArtifact.RelativePath));
        var failing = await PresenceCli.RunAsync("schema", "--check", "--output", stale);

        Assert.True(current.ExitCode == 0, current.Output);
        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains($"is stale; regenerate it with: {SchemaArtifact.Regenerate}", failing.Stderr);
    }
}
