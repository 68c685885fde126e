using System.Net;
using System.Net.Sockets;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// `dotnet run` a second time (another terminal, or beside the installed service) must not pull the private
/// PostgreSQL from under the server already running on it: starting takes a running postmaster for a crashed run's
/// leftover and stops it. The running server holds a lock beside the data folder; the second start is refused before
/// it touches the cluster.
/// </summary>
public sealed class one_server_per_private_postgres
{
    [Fact]
    public async Task a_second_server_is_refused_and_the_first_ones_database_keeps_running()
    {
        var dataDirectory = PostgresCluster.NewScratchDirectory("second-server");
        // The first server: its lock and its cluster, taken as the server's command line takes them.
        using var first = ServerLock.Take(dataDirectory);
        await using var running = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Durable = false });
        // Its broker's port: without the lock, the second start would get that far and end there, not run on.
        using var broker = new TcpListener(IPAddress.Loopback, 0);
        broker.Start();

        var run = await PresenceCli.RunAsync($"--Database:DataDirectory={dataDirectory}",
            $"--Mqtt:Port={((IPEndPoint)broker.LocalEndpoint).Port}", "--Urls=http://127.0.0.1:0");

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains($"presence: another Presence server is running on the private PostgreSQL in {dataDirectory}", run.Stderr);
        Assert.DoesNotContain("starting a private PostgreSQL", run.Output);
        Assert.Equal(1, await EmbeddedPostgresTests.ScalarAsync(running.ConnectionString, "select 1"));
    }

    [Fact]
    public async Task a_data_folder_that_cannot_be_made_is_named_in_one_line_by_the_server_and_by_a_verb()
    {
        // A path through a file: no user can make it, root included.
        var file = Path.Combine(PostgresCluster.NewScratchDirectory("not-a-folder"), "file");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "");
        var dataDirectory = Path.Combine(file, "postgres");

        foreach (var run in new[]
                 {
                     await PresenceCli.RunAsync($"--Database:DataDirectory={dataDirectory}"),
                     await PresenceCli.RunAsync("history", "alice", $"--Database:DataDirectory={dataDirectory}"),
                 })
        {
            Assert.True(run.ExitCode == 3, $"exit {run.ExitCode}\n{run.Output}");
            Assert.Contains($"presence: the private PostgreSQL's data folder {dataDirectory} cannot be used (", run.Stderr);
            Assert.Contains("set Database:DataDirectory to a folder this user may create and write", run.Stderr);
            Assert.DoesNotContain("Unhandled exception", run.Output);
        }
    }

    [Fact]
    public void the_lock_is_free_again_once_its_server_has_stopped()
    {
        var dataDirectory = PostgresCluster.NewScratchDirectory("lock-again");

        using (ServerLock.Take(dataDirectory))
        {
            var refused = Assert.Throws<StartupException>(() => ServerLock.Take(dataDirectory));
            Assert.Contains(ServerLock.PathFor(dataDirectory), refused.Message);
        }

        using var again = ServerLock.Take(dataDirectory);
    }
}
