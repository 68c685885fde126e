using Microsoft.Playwright;
using Presence.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The page in a real headless Chromium against the real server: it draws the house, and when a login over MQTT
/// moves a VM the page follows by itself, without a reload.
/// </summary>
[Collection(Chromium.Collection)]
public sealed class the_dashboard_in_chromium : IAsyncLifetime
{
    private RunningHouse house = null!;
    private Chromium chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(20_000);
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024)]), ("imac", []));
        chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await chromium.DisposeAsync();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task draws_the_house_and_follows_a_move_without_a_reload()
    {
        var page = await chromium.OpenAsync(house.Server.HttpAddress);
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => problems.Add(error);

        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "on");
        await Expect(page.Locator("[data-host=basement] [data-vm=alice-desktop]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-host=basement] [data-vm=bob-desktop]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-host=imac]")).ToContainTextAsync("agent online");
        await Expect(page.Locator("[data-host=laptop]")).ToContainTextAsync("agent offline");
        await Expect(page.Locator("[data-host=imac] [data-seated]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-timeline=alice]")).ToContainTextAsync("nothing decided yet");
        await Expect(page.Locator("#zone")).ToHaveTextAsync("Europe/Berlin");

        // A reload would lose this.
        await page.EvaluateAsync("() => { window.sameDocument = true; }");

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        var moved = new LocatorAssertionsToBeVisibleOptions { Timeout = 60_000 };
        await Expect(page.Locator("[data-host=imac] [data-vm=alice-desktop]")).ToBeVisibleAsync(moved);
        await Expect(page.Locator("[data-host=imac] [data-seated=alice]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-host=basement] [data-vm=alice-desktop]")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-host=basement] [data-vm=bob-desktop]")).ToBeVisibleAsync();
        var decided = page.Locator("[data-timeline=alice] [data-entry=placement_decided][data-rule=follow_seat]");
        await Expect(decided).ToContainTextAsync("to move alice-desktop from basement to imac while it runs (live migration)");
        await Expect(page.Locator("[data-timeline=alice] [data-entry=migration_completed]")).ToContainTextAsync("alice-desktop moved basement → imac");

        // Newest first.
        // (the iMac switching to the landed VM's own display may come after the move's end)
        await Expect(page.Locator("[data-timeline=alice] li:not([data-entry^=display_])").First).ToHaveAttributeAsync("data-entry", "migration_completed");
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded");
        Assert.Empty(problems);
    }
}
