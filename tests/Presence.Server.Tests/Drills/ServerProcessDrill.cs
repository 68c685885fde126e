using Npgsql;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// A drill that runs real server processes (<see cref="ServerProcess"/>) on one mosquitto and one fresh database,
/// sharing one folder (the house file and the signing key the agents trust).
/// </summary>
public abstract class ServerProcessDrill(string name) : IAsyncLifetime
{
    protected ExternalBroker broker = null!;
    protected string database = null!;
    protected string directory = null!;
    protected readonly List<ServerProcess> servers = [];

    /// <summary>Whether mosquitto logs every PUBLISH it sends (<see cref="ExternalBroker.Log"/>).</summary>
    protected virtual bool LogsDeliveries => false;

    public virtual async Task InitializeAsync()
    {
        broker = await ExternalBroker.StartAsync(deliveries: LogsDeliveries);
        database = await PostgresCluster.NewDatabaseAsync("drill_" + name);
        directory = PostgresCluster.NewScratchDirectory("drill-" + name);
    }

    /// <summary>How many of alice's events each node recorded (the events' `node` header), of one kind when <paramref name="type"/> is given.</summary>
    protected async Task<Dictionary<string, int>> AliceEventsByNodeAsync(string? type = null)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select headers->>'node', count(*) from presence.mt_events where stream_id = 'alice' and (@type::text is null or type = @type) group by 1", connection);
        command.Parameters.Add(new NpgsqlParameter("type", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)type ?? DBNull.Value });
        var nodes = new Dictionary<string, int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            nodes[reader.IsDBNull(0) ? "?" : reader.GetString(0)] = (int)reader.GetInt64(1);
        return nodes;
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }

        await broker.DisposeAsync();
    }
}
