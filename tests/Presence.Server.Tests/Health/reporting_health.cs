using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Domain.Hosts;
using Presence.Server.Hosting;
using Presence.Server.Tests.Drills;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Health;

/// <summary>
/// /health tells systemd and Home Assistant whether the server can work: 200 with agents offline (named in the
/// body), 503 naming the database when PostgreSQL is away; /health/live answers as long as the process does.
/// </summary>
public sealed class reporting_health
{
    [Fact]
    public async Task a_running_house_is_ready_and_an_agent_going_offline_is_named_while_it_stays_ready()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", []), ("imac", []));
        await using var laptop = await house.SilentAgentAsync("laptop");
        using var http = new HttpClient { BaseAddress = house.Server.BaseAddress };

        var (code, body) = await GetAsync(http, "/health");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("database").GetProperty("ok").GetBoolean());
        Assert.True(body.GetProperty("broker").GetProperty("ok").GetBoolean());
        Assert.All(body.GetProperty("agents").EnumerateArray(), a => Assert.True(a.GetProperty("online").GetBoolean()));
        Assert.Empty(body.GetProperty("degraded").EnumerateArray());

        await laptop.PublishAsync("presence/agents/laptop/status", """{"id":"status-2","state":"offline"}""", retain: true);
        await Eventually.TrueAsync(async () =>
        {
            await using var session = house.Server.Store.QuerySession();
            return await session.LoadAsync<HostState>(HostState.StreamId("laptop")) is { AgentOnline: false };
        }, "the laptop stored as offline");

        (code, body) = await GetAsync(http, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        var agent = body.GetProperty("agents").EnumerateArray().Single(a => a.GetProperty("host").GetString() == "laptop");
        Assert.False(agent.GetProperty("online").GetBoolean());
        Assert.NotNull(agent.GetProperty("since").GetString());
        Assert.Contains(body.GetProperty("degraded").EnumerateArray(), d => d.GetString()!.StartsWith("agent laptop offline since "));
        Assert.Empty(body.GetProperty("unready").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Code);
    }

    [Fact]
    public async Task the_database_away_gives_503_naming_the_database_while_live_stays_200()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("health");
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var server = await TestServer.StartAsync(connectionString);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health")).Code);

        // The database goes away: connections are refused and the open ones are cut.
        await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false");
        try
        {
            await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
            NpgsqlConnection.ClearAllPools();

            var (code, body) = await GetAsync(http, "/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
            Assert.Equal("unready", body.GetProperty("status").GetString());
            Assert.False(body.GetProperty("database").GetProperty("ok").GetBoolean());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("database").GetProperty("problem").GetString()));
            Assert.Contains(body.GetProperty("unready").EnumerateArray(), u => u.GetString()!.StartsWith("database: "));
            Assert.True(body.GetProperty("broker").GetProperty("ok").GetBoolean());
            Assert.Empty(body.GetProperty("agents").EnumerateArray());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Code);
        }
        finally
        {
            await AdminAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true");
        }

        // Ready once anything the server held meanwhile is stored, at its next attempt (at most StoreRetries' last cooldown).
        await Eventually.TrueAsync(async () => (await GetAsync(http, "/health")).Code == HttpStatusCode.OK, "/health 200 once the database is back");
    }

    [Fact]
    public async Task a_database_that_reads_but_refuses_to_store_gives_503_naming_it_until_the_held_signal_is_stored()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("health");
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var server = await TestServer.StartAsync(connectionString);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health")).Code);

        // Every query still answers, every write is refused: what a full disk does (docs/drills.md), here cheaply.
        await AdminAsync($"ALTER DATABASE \"{database}\" SET default_transaction_read_only = on");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-read-only", "imac");
        await imac.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(1));

        // The first attempt may meet the connection the termination cut (57P01); the next ones meet the refusal.
        var body = await Eventually.GetAsync(async () =>
        {
            var (code, body) = await GetAsync(http, "/health");
            return code == HttpStatusCode.ServiceUnavailable &&
                   body.GetProperty("database").GetProperty("problem").GetString()!.StartsWith("PostgreSQL cannot store: 25006: ", StringComparison.Ordinal)
                ? new Box(body) : null;
        }, "/health 503 saying PostgreSQL cannot store, as it refuses writes");
        Assert.Contains(body.Json.GetProperty("unready").EnumerateArray(), u => u.GetString()!.StartsWith("database: PostgreSQL cannot store: 25006: ", StringComparison.Ordinal));
        Assert.Contains("messages held since ", body.Json.GetProperty("database").GetProperty("problem").GetString());
        // The query worked: the agents' word is known, unlike with the database away.
        Assert.NotEmpty(body.Json.GetProperty("agents").EnumerateArray());
        Assert.Empty(await DrillSignals.StoredAsync(server.Store));

        await AdminAsync($"ALTER DATABASE \"{database}\" RESET default_transaction_read_only");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        await Eventually.TrueAsync(async () => (await DrillSignals.StoredAsync(server.Store)).SequenceEqual([DrillSignals.IdOf(1)]),
            "the held signal stored once writes are allowed");
        // Its commit ends the outage, well before the last hold would have gone stale.
        var outage = server.Services.GetRequiredService<StoreOutage>();
        await Eventually.TrueAsync(() => Task.FromResult(outage.Current is null), "the commit ending the outage", TimeSpan.FromSeconds(3));
        await Eventually.TrueAsync(async () => (await GetAsync(http, "/health")).Code == HttpStatusCode.OK, "/health 200 once the held signal is stored");
        Assert.Equal(0, server.Rejections.Count);
    }

    [Fact]
    public async Task the_broker_away_gives_503_naming_the_broker_and_its_return_makes_the_server_ready_again()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("health"), "health");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health")).Code);

        await broker.StopAsync(kill: true);
        var body = await Eventually.GetAsync(async () =>
        {
            var (code, body) = await GetAsync(http, "/health");
            return code == HttpStatusCode.ServiceUnavailable ? new Box(body) : null;
        }, "/health answering 503 once the broker is gone");
        Assert.False(body.Json.GetProperty("broker").GetProperty("ok").GetBoolean());
        Assert.Contains(body.Json.GetProperty("unready").EnumerateArray(), u => u.GetString()!.StartsWith("broker: "));
        Assert.True(body.Json.GetProperty("database").GetProperty("ok").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Code);

        await broker.StartAgainAsync();
        await Eventually.TrueAsync(async () => (await GetAsync(http, "/health")).Code == HttpStatusCode.OK,
            "/health ready again once the broker is back", TimeSpan.FromSeconds(60));
    }

    private sealed record Box(JsonElement Json);

    private static async Task<(HttpStatusCode Code, JsonElement Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body);
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
