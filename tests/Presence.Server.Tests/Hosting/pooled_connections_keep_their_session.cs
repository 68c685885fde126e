using Npgsql;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// Issue 11 §6: a connection the server hands back to its pool is not reset (Npgsql's DISCARD ALL), so PostgreSQL
/// keeps what it planned for Marten's append function from one transaction to the next, and a statement the server
/// runs again and again is prepared, so PostgreSQL neither parses nor plans it each time (PresenceApp.KeepingSessions).
/// </summary>
public sealed class pooled_connections_keep_their_session
{
    [Fact]
    public async Task a_setting_made_on_a_pooled_connection_is_still_there_when_the_pool_hands_it_out_again()
    {
        await using var server = await TestServer.StartAsync();
        await using (var first = (NpgsqlConnection)server.Store.Storage.Database.CreateConnection())
        {
            await first.OpenAsync();
            await using var set = new NpgsqlCommand("select set_config('presence.probe', 'kept', false), pg_backend_pid()", first);
            await using var reader = await set.ExecuteReaderAsync();
            await reader.ReadAsync();
            var pid = reader.GetInt32(1);
            await reader.DisposeAsync();
            await first.CloseAsync();

            // The pool may hand out another of its connections first: ask until it hands out the same one.
            for (var attempt = 0; attempt < 50; attempt++)
            {
                await using var again = (NpgsqlConnection)server.Store.Storage.Database.CreateConnection();
                await again.OpenAsync();
                await using var read = new NpgsqlCommand("select pg_backend_pid(), current_setting('presence.probe', true)", again);
                await using var row = await read.ExecuteReaderAsync();
                await row.ReadAsync();
                if (row.GetInt32(0) != pid)
                {
                    continue;
                }

                Assert.Equal("kept", row.IsDBNull(1) ? null : row.GetString(1));
                return;
            }
        }

        Assert.Fail("the pool never handed out the same connection again in 50 tries");
    }

    [Fact]
    public async Task a_statement_run_again_on_a_pooled_connection_is_prepared()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = (NpgsqlConnection)server.Store.Storage.Database.CreateConnection();
        await connection.OpenAsync();
        const string statement = "select count(*) from pg_class where relname = $1";
        for (var run = 0; run < 3; run++)
        {
            await using var command = new NpgsqlCommand(statement, connection) { Parameters = { new() { Value = "pg_proc" } } };
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        }

        await using var prepared = new NpgsqlCommand("select count(*) from pg_prepared_statements where statement = $1", connection)
        {
            Parameters = { new() { Value = statement } },
        };
        Assert.Equal(1L, await prepared.ExecuteScalarAsync());
    }
}
