using Npgsql;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>
/// Without a connection string the verbs use the server's private PostgreSQL: beside a running server they join its
/// cluster and leave it running, rather than taking it for a crashed run's leftover and stopping it.
/// </summary>
public sealed class joining_a_running_servers_database
{
    [Fact]
    public async Task a_verb_joins_the_cluster_a_server_runs_on_and_leaves_it_running()
    {
        var dataDirectory = PostgresCluster.NewScratchDirectory("private");
        await using var running = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Durable = false });
        var house = Path.Combine(PostgresCluster.NewScratchDirectory("house"), "house.json");
        Directory.CreateDirectory(Path.GetDirectoryName(house)!);
        await File.WriteAllTextAsync(house, TestHouse.Json);

        var result = await PresenceCli.RunAsync("history", "alice", "--config", house, $"--Database:DataDirectory={dataDirectory}");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("History of alice (Europe/Berlin): 0 entries", result.Stdout);
        Assert.Contains($"using the private PostgreSQL in {dataDirectory}", result.Stderr);
        await using var connection = new NpgsqlConnection(running.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }
}
