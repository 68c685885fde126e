using Microsoft.Playwright;
using Presence.Agent;
using Presence.Domain.Hosts;
using Presence.Server.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The family house of the README in Chromium, mid-morning: alice's VM has followed her to the iMac, dave works on
/// the laptop as a thin client, carol's move waits for a grown-up's approval, and bob's music VM is on its way to
/// the kids' computer, its progress bar filling.
/// The screenshot it takes is docs/dashboard.png (set PRESENCE_DASHBOARD_SCREENSHOT to write it there).
/// </summary>
[Collection(Chromium.Collection)]
public sealed class a_move_in_progress_on_the_dashboard : IAsyncLifetime
{
    public const string ScreenshotVariable = "PRESENCE_DASHBOARD_SCREENSHOT";

    // The default house file's people and computers, with no waiting (hold-downs, cooldown, quiet hours) so the
    // story plays at once whatever the time of day.
    private const string FamilyHouse = """
    {
      "House": {
        "TimeZone": "Europe/Berlin",
        "Hosts": [
          { "Name": "basement", "Role": "Server", "CanRunVms": true, "LinkMbps": 10000 },
          { "Name": "imac", "Role": "Desktop", "CanRunVms": true, "LinkMbps": 1000 },
          { "Name": "kids", "Role": "Desktop", "CanRunVms": true, "LinkMbps": 1000 },
          { "Name": "laptop", "Role": "Laptop", "CanRunVms": true, "LinkMbps": 400 }
        ],
        "Users": [
          { "Name": "alice", "Vm": "alice-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement", "imac", "kids", "laptop" ], "PreferredMode": "Local" },
          { "Name": "bob", "Vm": "bob-music", "HomeHost": "basement", "AllowedHosts": [ "basement", "imac", "kids", "laptop" ], "PreferredMode": "ThinClient" },
          { "Name": "carol", "Vm": "carol-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement", "kids", "imac" ], "PreferredMode": "Local", "Automation": "Recommend" },
          { "Name": "dave", "Vm": "dave-desktop", "HomeHost": "basement", "AllowedHosts": [ "basement", "laptop", "imac" ], "PreferredMode": "ThinClient" }
        ],
        "Vms": [
          { "Name": "alice-desktop", "MemoryMb": 1024, "Owner": "alice", "DisplayUri": "spice://basement:5901" },
          { "Name": "bob-music", "MemoryMb": 6144, "Owner": "bob", "DisplayUri": "spice://basement:5902", "LatencySensitive": true },
          { "Name": "carol-desktop", "MemoryMb": 2048, "Owner": "carol", "DisplayUri": "spice://basement:5903" },
          { "Name": "dave-desktop", "MemoryMb": 4096, "Owner": "dave", "DisplayUri": "spice://basement:5904" }
        ],
        "Policy": {
          "HoldDown": { "AttachDisplay": "0s", "LiveMigration": "0s", "SuspendResume": "0s" },
          "Cooldown": "0s",
          "QuietHours": "off",
          "SharedStorage": "/tmp/presence-tests-shared"
        }
      }
    }
    """;

    private readonly List<PresenceAgent> agents = [];
    private TestServer server = null!;
    private Chromium chromium = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(30_000);
        server = await TestServer.StartAsync(houseJson: FamilyHouse);

        // The basement sends at twice a real gigabit link: alice's 1 GiB takes seconds, bob's 6 GiB half a minute.
        agents.Add(await TestAgents.StartAsync("basement", server.MqttPort, server.Directory, speedFactor: 2,
            ("alice-desktop", 1024), ("bob-music", 6144), ("carol-desktop", 2048), ("dave-desktop", 4096)));
        foreach (var host in new[] { "imac", "kids", "laptop" })
        {
            agents.Add(await TestAgents.StartAsync(host, server.MqttPort, server.Directory));
        }

        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var known = await Marten.QueryableExtensions.ToListAsync(session.Query<HostState>());
            return known.Count(h => h.AgentOnline && h.MemoryMb > 0) == 4;
        }, "every agent online with its inventory stored");
        chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await chromium.DisposeAsync();
        foreach (var agent in agents)
        {
            await agent.DisposeAsync();
        }

        await server.DisposeAsync();
    }

    [Fact]
    public async Task shows_the_progress_of_a_move_as_it_goes()
    {
        var page = await chromium.OpenAsync(server.HttpAddress, width: 1440, height: 1000);
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "on");

        await LoginAsync("imac", "alice", "login-alice");
        await Expect(page.Locator("[data-host=imac] [data-vm=alice-desktop]")).ToBeVisibleAsync();
        await LoginAsync("laptop", "dave", "login-dave");
        await Expect(page.Locator("[data-host=basement] [data-vm=dave-desktop]")).ToContainTextAsync("shown on laptop");
        await LoginAsync("imac", "carol", "login-carol");
        var proposal = page.Locator("[data-proposal]");
        await Expect(proposal).ToContainTextAsync("carol-desktop: basement → imac (live migration)");
        await Expect(proposal).ToContainTextAsync("follow_seat");
        await Expect(page.Locator("[data-host=basement] [data-vm=carol-desktop]")).ToBeVisibleAsync();
        await LoginAsync("kids", "bob", "login-bob");

        // The same move on both ends: leaving the basement, arriving at the kids' computer, with a percentage that grows.
        var leaving = page.Locator("[data-host=basement] [data-move=bob-music]");
        await Expect(page.Locator("[data-host=kids] [data-move=bob-music]")).ToBeVisibleAsync();
        await Expect(leaving).ToContainTextAsync("bob-music → kids");
        await Expect(leaving).ToHaveAttributeAsync("data-percent", new System.Text.RegularExpressions.Regex("^[1-9][0-9]?$"));
        var early = int.Parse((await leaving.GetAttributeAsync("data-percent"))!, System.Globalization.CultureInfo.InvariantCulture);
        await Expect(leaving).Not.ToHaveAttributeAsync("data-percent", early.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(leaving).ToContainTextAsync("migrating ·");
        await Expect(page.Locator("[data-timeline=bob] [data-rule]").First).ToContainTextAsync("bob-music from basement to kids");

        var path = Environment.GetEnvironmentVariable(ScreenshotVariable) is { Length: > 0 } wanted
            ? Path.GetFullPath(wanted)
            : Path.Combine(server.Directory, "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 20_000, $"a {png.Length}-byte screenshot is too small to show the house");
    }

    private async Task LoginAsync(string host, string user, string id)
    {
        await using var emitter = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{host}-emitter-{Guid.NewGuid():N}", host);
        await emitter.PublishAsync($"presence/hosts/{host}/signals/session", $$"""{"id":"{{id}}","user":"{{user}}","state":"login","seat":"console"}""");
    }
}
