using Microsoft.Playwright;
using Presence.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The page says what /health says (issue 10 §5): nothing while the whole house is well, an amber line per agent that
/// is away, and red when the server itself cannot be reached — also when the live stream is what broke.
/// </summary>
[Collection(Chromium.Collection)]
public sealed class a_degraded_house_on_the_dashboard : IAsyncLifetime
{
    private RunningHouse house = null!;
    private Chromium chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(20_000);
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []), ("laptop", []));
        chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await chromium.DisposeAsync();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task an_agent_away_and_then_the_server_away_are_shown_in_words()
    {
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
}
