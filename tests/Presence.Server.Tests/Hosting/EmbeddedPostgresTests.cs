using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

public sealed class EmbeddedPostgresTests
{
    private static bool IsRoot => Environment.UserName == "root";

    [Fact]
    public async Task Started_cluster_answers_on_loopback_only()
    {
        var postgres = await PostgresCluster.InstanceAsync();

        Assert.Equal(1, await ScalarAsync(postgres.ConnectionString, "select 1"));
        Assert.Equal("127.0.0.1", await ScalarAsync(postgres.ConnectionString, "show listen_addresses"));
        Assert.Equal("presence", new NpgsqlConnectionStringBuilder(postgres.ConnectionString).Database);
        // Loopback: no GSS or TLS negotiation on each new connection (nor the Kerberos libraries loaded for it).
        Assert.Equal(GssEncryptionMode.Disable, new NpgsqlConnectionStringBuilder(postgres.ConnectionString).GssEncryptionMode);
        Assert.Equal(SslMode.Disable, new NpgsqlConnectionStringBuilder(postgres.ConnectionString).SslMode);
    }

    [Fact]
    public async Task Large_values_are_compressed_with_lz4_not_pglz()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("lz4");
        // Like a saga's document: a few KB of JSON that compresses, over the 2 KB at which PostgreSQL compresses.
        var json = "{" + string.Join(",", Enumerable.Range(1, 200).Select(i => $"\"seat-{i:000}\": \"2026-12-05T16:46:47.{i:0000000}Z\"")) + "}";
        await ExecuteAsync(connectionString, $"create table saga (data jsonb); insert into saga values ('{json}')");

        Assert.Equal("lz4", await ScalarAsync(connectionString, "show default_toast_compression"));
        Assert.Equal("lz4", await ScalarAsync(connectionString, "select pg_column_compression(data) from saga"));
    }

    [Fact]
    public async Task Data_and_password_survive_a_restart()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("restart"), Durable = false };
        await using (var first = await EmbeddedPostgres.StartAsync(options))
        {
            await ExecuteAsync(first.ConnectionString, "create table kept (v text); insert into kept values ('still here')");
            await first.StopAsync();
        }

        await using var second = await EmbeddedPostgres.StartAsync(options);

        Assert.Equal("still here", await ScalarAsync(second.ConnectionString, "select v from kept"));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(options.DataDirectory + ".password"));
    }

    [Fact]
    public async Task Start_replaces_a_postmaster_left_running_by_a_crashed_run()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("crashed"), Durable = false };
        var crashed = await EmbeddedPostgres.StartAsync(options);

        await using var restarted = await EmbeddedPostgres.StartAsync(options);

        Assert.Equal(1, await ScalarAsync(restarted.ConnectionString, "select 1"));
        // The stale handle must not take the new postmaster down with it.
        await crashed.DisposeAsync();
        Assert.Equal(1, await ScalarAsync(restarted.ConnectionString, "select 1"));
    }

    [Fact]
    public async Task Stale_pid_file_of_a_dead_process_does_not_block_start()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("stale-pid"), Durable = false };
        await (await EmbeddedPostgres.StartAsync(options)).StopAsync();
        using (var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            await gone.WaitForExitAsync();
            await File.WriteAllTextAsync(Path.Combine(options.DataDirectory, "postmaster.pid"),
                $"{gone.Id}\n{options.DataDirectory}\n1700000000\n5432\n\n127.0.0.1\n  5432001         0\nready   \n");
        }

        await using var postgres = await EmbeddedPostgres.StartAsync(options);

        Assert.Equal(1, await ScalarAsync(postgres.ConnectionString, "select 1"));
    }

    [Fact]
    public async Task A_failed_start_reports_the_postgres_log()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var options = new EmbeddedPostgresOptions
        {
            DataDirectory = PostgresCluster.NewScratchDirectory("port-taken"),
            Port = ((IPEndPoint)taken.LocalEndpoint).Port,
            Durable = false,
        };

        var error = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(options));

        Assert.Contains("could not bind", error.Message);
        Assert.Contains("postgresql.log", error.Message);
    }

    [Fact]
    public async Task Missing_binaries_are_reported_in_one_line_with_both_ways_out()
    {
        var empty = Directory.CreateDirectory(PostgresCluster.NewScratchDirectory("no-binaries")).FullName;

        var error = await Assert.ThrowsAsync<PostgresNotFoundException>(() => EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = Path.Combine(empty, "data"), BinDirectory = empty }));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(empty, error.Message);
        Assert.Contains("apt-get install postgresql", error.Message);
        Assert.Contains("docker compose up", error.Message);
        Assert.False(Directory.Exists(Path.Combine(empty, "data")), "nothing is created before the binaries are found");
    }

    [Fact]
    public async Task StartOrAttach_joins_a_running_cluster_and_leaves_it_running()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("attach"), Durable = false };
        await using var server = await EmbeddedPostgres.StartAsync(options);
        await ExecuteAsync(server.ConnectionString, "create table kept (v text); insert into kept values ('server data')");

        await using (var demo = await EmbeddedPostgres.StartOrAttachAsync(new EmbeddedPostgresOptions
                     {
                         DataDirectory = options.DataDirectory, Database = "joined", Durable = false,
                     }))
        {
            Assert.True(demo.Attached);
            Assert.Equal(server.Port, demo.Port);
            Assert.Equal(1, await ScalarAsync(demo.ConnectionString, "select 1"));
        }

        Assert.False(server.Attached);
        Assert.Equal("server data", await ScalarAsync(server.ConnectionString, "select v from kept"));
    }

    [Fact]
    public async Task StartOrAttach_starts_a_cluster_when_none_runs()
    {
        var options = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("attach-none"), Durable = false };

        await using var postgres = await EmbeddedPostgres.StartOrAttachAsync(options);

        Assert.False(postgres.Attached);
        Assert.Equal(1, await ScalarAsync(postgres.ConnectionString, "select 1"));
    }

    [Fact]
    public async Task DropDatabase_removes_it_and_is_idempotent()
    {
        var postgres = await PostgresCluster.InstanceAsync();
        var name = "dropped_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = await postgres.CreateDatabaseAsync(name);
        await ExecuteAsync(connectionString, "create table t (v int)");

        await postgres.DropDatabaseAsync(name);
        await postgres.DropDatabaseAsync(name);

        Assert.Null(await ScalarAsync(postgres.ConnectionString, $"select 1 from pg_database where datname = '{name}'"));
    }

    [Fact]
    public async Task CreateDatabase_is_idempotent()
    {
        var postgres = await PostgresCluster.InstanceAsync();
        var name = "idempotent_" + Guid.NewGuid().ToString("N")[..12];

        var first = await postgres.CreateDatabaseAsync(name);
        await ExecuteAsync(first, "create table t (v int); insert into t values (7)");
        var second = await postgres.CreateDatabaseAsync(name);

        Assert.Equal(first, second);
        Assert.Equal(name, new NpgsqlConnectionStringBuilder(second).Database);
        Assert.Equal(7, await ScalarAsync(second, "select v from t"));
    }

    [Fact]
    public async Task Each_test_class_gets_its_own_database()
    {
        var one = await PostgresCluster.NewDatabaseAsync(nameof(EmbeddedPostgresTests));
        var other = await PostgresCluster.NewDatabaseAsync(nameof(EmbeddedPostgresTests));

        Assert.NotEqual(new NpgsqlConnectionStringBuilder(one).Database, new NpgsqlConnectionStringBuilder(other).Database);
        Assert.StartsWith("embeddedpostgrestests_", new NpgsqlConnectionStringBuilder(one).Database);
        Assert.Equal(1, await ScalarAsync(other, "select 1"));
    }

    [Fact]
    public async Task As_root_a_data_directory_postgres_cannot_reach_is_refused_clearly()
    {
        if (!IsRoot || OperatingSystem.IsWindows())
            return;
        var privateDir = Directory.CreateDirectory(PostgresCluster.NewScratchDirectory("private")).FullName;
        File.SetUnixFileMode(privateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var error = await Assert.ThrowsAsync<EmbeddedPostgresException>(() => EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = Path.Combine(privateDir, "data") }));

        Assert.Contains(EmbeddedPostgres.RootDataDirectory, error.Message);
    }

    [Fact]
    public void Default_data_directory_is_reachable_by_postgres_when_root()
    {
        var expected = IsRoot
            ? "/var/lib/presence/postgres"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "presence", "postgres");

        Assert.Equal(expected, EmbeddedPostgres.DefaultDataDirectory());
    }

    internal static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    // These tests stop clusters and may get the same port again: a pooled connection would point at a dead server.
    private static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
}
