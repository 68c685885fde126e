using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// What the PostgreSQL cluster itself can do, in the same run as the server: single-row jsonb INSERTs, each its own
/// commit, from 1 and from 16 connections, and one COPY. The ceiling a durable signal path is compared with.
/// </summary>
public static class RawPostgres
{
    // About the size of a stored idle signal (SignalRecorded with its evidence), so the WAL written per row is alike.
    private const string Row = """{"User":"user-001","Evidence":{"Id":"raw-000000","Kind":"Idle","Host":"seat-001","User":"user-001","Details":{"idle_seconds":"42"},"At":"2026-12-04T20:00:00Z"},"At":"2026-12-04T20:00:00Z","ReceivedAt":"2026-12-04T20:00:00.001Z","Seed":"6f1c1f0e-9a43-4d1e-9d0e-3c1c5d4b8a11"}""";

    public static async Task CreateTableAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand(
            "drop table if exists raw_rows; create table raw_rows (id bigserial primary key, data jsonb not null)", connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>Commits per second over <paramref name="duration"/>, each commit one INSERT of one row, <paramref name="clients"/> connections at once.</summary>
    public static async Task<double> CommitsPerSecondAsync(string connectionString, int clients, TimeSpan duration)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = Math.Max(clients, 20) };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        var connections = new List<NpgsqlConnection>();
        for (var i = 0; i < clients; i++)
        {
            connections.Add(await source.OpenConnectionAsync());
        }

        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = new Stopwatch();
            var counts = new long[clients];
            var workers = connections.Select((connection, i) => Task.Run(async () =>
            {
                await using var insert = new NpgsqlCommand("insert into raw_rows (data) values ($1)", connection);
                insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = Row });
                await insert.PrepareAsync();
                await start.Task;
                while (clock.Elapsed < duration)
                {
                    await insert.ExecuteNonQueryAsync();
                    counts[i]++;
                }
            })).ToList();
            clock.Start();
            start.SetResult();
            await Task.WhenAll(workers);
            return counts.Sum() / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Rows per second of one binary COPY of <paramref name="rows"/> rows, committed.</summary>
    public static async Task<double> CopyRowsPerSecondAsync(string connectionString, int rows)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var writer = await connection.BeginBinaryImportAsync("copy raw_rows (data) from stdin (format binary)"))
            {
                for (var i = 0; i < rows; i++)
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(Row, NpgsqlDbType.Jsonb);
                }

                await writer.CompleteAsync();
            }

            await transaction.CommitAsync();
        }

        return rows / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The settings that make a commit durable, as the cluster reports them (fsync, synchronous_commit).</summary>
    public static async Task<string> DurabilityAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand(
            "select 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', PostgreSQL ' || current_setting('server_version')",
            connection);
        return (string)(await show.ExecuteScalarAsync())!;
    }
}
