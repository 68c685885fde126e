using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// A message is acknowledged to the broker only once it is stored: if the server stops while it cannot store a
/// signal, the broker keeps the signal and hands it to the next run.
/// </summary>
public sealed class acknowledging_after_storage : IAsyncLifetime
{
    private ExternalBroker broker = null!;

    public async Task InitializeAsync() => broker = await ExternalBroker.StartAsync();

    public Task DisposeAsync() => broker.DisposeAsync().AsTask();

    [Fact]
    public async Task a_signal_that_could_not_be_stored_is_handled_by_the_next_run()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("ack");
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var firstLog = new LogLines();
        var first = await TestServer.StartAsync(connectionString, broker.Port, "ack", mqttLogin: broker.ServerLogin,
            services: s => s.AddSingleton<ILoggerProvider>(firstLog));
        await using var emitter = await MqttProbe.ConnectAsync(broker, "imac-ack", "imac");

        // The database goes away: connections are refused and the open ones are cut.
        await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        NpgsqlConnection.ClearAllPools();

        await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"held-1","user":"alice","state":"login"}""");
        // Alone, the signal is handled at once, and its handler holds it (StoreRetries); stored, the bridge would.
        await firstLog.WaitForAsync("SignalArrived until it can be stored", "the first run holding the signal while the database is away");

        await first.DisposeAsync();
        await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true");

        await using var second = await TestServer.StartAsync(broker, connectionString, "ack");
        await Eventually.TrueAsync(async () =>
        {
            await using var session = second.Store.QuerySession();
            var events = await session.Events.FetchStreamAsync("alice");
            return events.Select(e => e.Data).OfType<SignalRecorded>().Any(s => s.Evidence.Id == "held-1");
        }, "the held signal stored by the second run", TimeSpan.FromSeconds(60));
    }

    private static async Task AdminAsync(string sql)
    {
        var cluster = await PostgresCluster.InstanceAsync();
        var admin = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
