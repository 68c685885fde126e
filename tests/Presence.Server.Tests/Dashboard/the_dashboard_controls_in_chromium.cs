using Microsoft.Playwright;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Server.Identities;
using Presence.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The dashboard's buttons in a real headless Chromium against the real server (issue 12 §2): approve a proposal,
/// hold and release, bring a desktop here, maintenance and the automation level each send the contract's request,
/// and the page follows what Presence then did. Beyond this computer the same buttons need a controller's secret.
/// </summary>
[Collection(Chromium.Collection)]
public sealed class the_dashboard_controls_in_chromium
{
    [Fact]
    public async Task each_button_sends_its_request_and_the_page_follows()
    {
        SetDefaultExpectTimeout(30_000);
        var recommend = TestHouse.With(h => h["Users"]![0]!["Automation"] = "Recommend");
        await using var house = await RunningHouse.StartAsync(recommend, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.OpenAsync(house.Server.HttpAddress);
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "on");
        var status = page.Locator("#control-status");
        var alice = page.Locator("[data-timeline=alice]");

        // Hold and release.
        await alice.Locator("[data-control=hold]").ClickAsync();
        await Expect(status).ToHaveAttributeAsync("data-outcome", "taken");
        await Expect(status).ToContainTextAsync("asked as dashboard");
        await Expect(alice.Locator("[data-control=hold]")).ToHaveTextAsync("release hold");
        await Expect(alice.Locator("[data-entry=hold_changed]")).ToContainTextAsync("hold: the session stays where it is");
        await alice.Locator("[data-control=hold]").ClickAsync();
        await Expect(alice.Locator("[data-control=hold]")).ToHaveTextAsync("hold");

        // A proposal waits (alice is at `recommend`): approve it on the page, and her desktop moves to the iMac.
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        var proposal = page.Locator("[data-proposal]");
        await Expect(proposal).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var decision = await proposal.GetAttributeAsync("data-proposal");
        await proposal.Locator("[data-control=approve]").ClickAsync();
        await Expect(page.Locator("[data-host=imac] [data-vm=alice-desktop]")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.Locator("[data-proposal]")).ToHaveCountAsync(0);
        Assert.True(Assert.Single((await house.StreamAsync("alice")).OfType<ProposalAnswered>(), a => a.DecisionId == decision).Approved);

        // Bring it back here (the basement), as asked, not proposed: a person's own request needs no approval.
        await page.Locator("[data-host=basement] [data-bring=alice]").ClickAsync();
        await Expect(page.Locator("[data-host=basement] [data-vm=alice-desktop]")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        Assert.Contains((await house.StreamAsync("alice")).OfType<SignalRecorded>(),
            s => s.Evidence.Detail("action") == "move" && s.Evidence.Detail("target") == "basement" && s.Evidence.Detail("by") == "dashboard");

        // Maintenance on the iMac, and off again.
        await page.Locator("[data-host=imac] [data-control=maintenance]").ClickAsync();
        await Expect(page.Locator("[data-host=imac] .badge.warn")).ToHaveTextAsync("maintenance");
        await Expect(page.Locator("[data-host=imac] [data-control=maintenance]")).ToHaveTextAsync("end maintenance");
        await using (var session = house.Server.Store.QuerySession())
        {
            Assert.True((await session.LoadAsync<HostState>(HostState.StreamId("imac")))!.InMaintenance);
        }

        await page.Locator("[data-host=imac] [data-control=maintenance]").ClickAsync();
        await Expect(page.Locator("[data-host=imac] [data-control=maintenance]")).ToHaveTextAsync("maintenance");

        // The automation level: the select shows the level that holds, and a change is recorded.
        await Expect(alice.Locator("[data-control=automation]")).ToHaveValueAsync("recommend");
        await alice.Locator("[data-control=automation]").SelectOptionAsync("manual");
        await Expect(alice.Locator("[data-entry=automation_level_changed]")).ToContainTextAsync("automation level set to manual (was recommend)");
        await Expect(alice.Locator("[data-control=automation]")).ToHaveValueAsync("manual");
        Assert.Equal(AutomationLevel.Manual, (await house.StreamAsync("alice")).OfType<AutomationLevelChanged>().Single().Level);

        // A request the house refuses says why on the page.
        await page.EvaluateAsync("() => ask('bob', { action: 'move', target: 'imac' }, 'bring bob\\'s desktop to imac')");
        await Expect(status).ToHaveAttributeAsync("data-outcome", "refused");
        await Expect(status).ToContainTextAsync("target 'imac' is not among bob's allowed hosts");
    }

    [Fact]
    public async Task beyond_this_computer_the_buttons_need_a_controllers_secret()
    {
        SetDefaultExpectTimeout(30_000);
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, TestAgents.DefaultSpeed,
            ["--Urls=http://0.0.0.0:0", $"--{HttpExposure.OptInKey}=true"], ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await using (var session = house.Server.Store.LightweightSession())
        {
            session.Store(Enrolment.Of("homeassistant", IdentityRole.Controller, "ha-secret-1", NodaTime.SystemClock.Instance.GetCurrentInstant()));
            await session.SaveChangesAsync();
        }

        var address = new UriBuilder(house.Server.HttpAddress) { Host = "127.0.0.1" }.Uri.ToString();
        await using var chromium = await Chromium.LaunchAsync();

        // A browser without a login would show its own dialog for the name and secret (headless has none to show):
        // the stranger answers it with a wrong secret.
        await using (var stranger = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "homeassistant", Password = "a-guess" },
        }))
        {
            var page = await stranger.NewPageAsync();
            await page.GotoAsync(address);
            await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "on");
            await page.Locator("[data-timeline=alice] [data-control=hold]").ClickAsync();
            await Expect(page.Locator("#control-status")).ToHaveAttributeAsync("data-outcome", "refused");
            await Expect(page.Locator("#control-status")).ToContainTextAsync("'homeassistant' and that secret are not a controller of this house");
        }

        Assert.False((await house.SagaAsync("alice"))?.Held ?? false);

        await using var controller = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "homeassistant", Password = "ha-secret-1" },
        });
        var steering = await controller.NewPageAsync();
        await steering.GotoAsync(address);
        await Expect(steering.Locator("body")).ToHaveAttributeAsync("data-live", "on");
        await steering.Locator("[data-timeline=alice] [data-control=hold]").ClickAsync();
        await Expect(steering.Locator("#control-status")).ToContainTextAsync("asked as homeassistant");
        await Expect(steering.Locator("[data-timeline=alice] [data-control=hold]")).ToHaveTextAsync("release hold");
        Assert.True((await house.SagaAsync("alice"))!.Held);
    }
}
