using Microsoft.Playwright;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The page says what /health says (issue 10 §5): nothing while the whole house is well, an amber line per agent that
/// is away, and red when the server itself cannot be reached — also when the live stream is what broke — or cannot
/// reach its database.
/// </summary>
[Collection(Chromium.Collection)]
public sealed class a_degraded_house_on_the_dashboard : IAsyncLifetime
{
    private Chromium chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(20_000);
        chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync() => await chromium.DisposeAsync();

    [Fact]
    public async Task an_agent_away_and_then_the_server_away_are_shown_in_words()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []), ("laptop", []));
        var page = await chromium.OpenAsync(house.Server.HttpAddress);
        var banner = page.Locator("#health");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "on");
        await Expect(banner).ToHaveAttributeAsync("data-health", "ready");
        await Expect(banner).ToBeHiddenAsync();

        await house.Agent("laptop").StopAsync();
        await Expect(banner).ToHaveAttributeAsync("data-health", "degraded");
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToContainTextAsync("Part of the house is away");
        await Expect(banner).ToContainTextAsync("agent laptop offline since");
        await Expect(banner).Not.ToContainTextAsync("imac");

        await using (await TestAgents.StartAsync("laptop", house.Server.MqttPort, house.Server.Directory))
        {
            await Expect(banner).ToBeHiddenAsync();
        }

        await house.Server.DisposeAsync();
        await Expect(banner).ToHaveAttributeAsync("data-health", "unready");
        await Expect(banner).ToContainTextAsync("The server cannot work right now");
        await Expect(banner).ToContainTextAsync("the Presence server does not answer");
    }

    [Fact]
    public async Task the_database_stopped_is_named_and_the_banner_clears_when_it_is_back()
    {
        // The server's own cluster, on a fixed port so that its connection string still holds after the restart; the
        // suite's shared one must not stop under other tests.
        var cluster = new EmbeddedPostgresOptions { DataDirectory = PostgresCluster.NewScratchDirectory("dashboard-pg"), Port = Ports.Free(), Durable = false };
        var postgres = await EmbeddedPostgres.StartAsync(cluster);
        try
        {
            await using var server = await TestServer.StartAsync(connectionString: postgres.ConnectionString);
            foreach (var host in new[] { "basement", "imac", "laptop" })
            {
                await using var agent = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{host}-dashboard-db", host);
                await RunningHouse.AnnounceAsync(agent, host, "status-1");
            }

            var page = await chromium.OpenAsync(server.HttpAddress);
            var banner = page.Locator("#health");
            await Expect(banner).ToHaveAttributeAsync("data-health", "ready");
            await Expect(banner).ToBeHiddenAsync();

            // As `systemctl stop postgresql` would: a fast shutdown, every session of the server ended.
            await postgres.StopAsync();
            await Expect(banner).ToHaveAttributeAsync("data-health", "unready");
            await Expect(banner).ToBeVisibleAsync();
            await Expect(banner).ToContainTextAsync("The server cannot work right now");
            await Expect(banner).ToContainTextAsync("database: PostgreSQL cannot be queried");
            await Expect(banner).ToContainTextAsync("agents: unknown while the database is away");
            await Expect(banner).Not.ToContainTextAsync("the Presence server does not answer");

            postgres = await EmbeddedPostgres.StartAsync(cluster);
            // Anything the server held meanwhile is stored at its next attempt, at most StoreRetries' last cooldown away.
            await Expect(banner).ToHaveAttributeAsync("data-health", "ready", new() { Timeout = 40_000 });
            await Expect(banner).ToBeHiddenAsync();
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }
}
