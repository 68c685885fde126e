using System.Net;
using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>A house with agents on the basement and the iMac (none on the laptop), shared by the tests below.</summary>
public sealed class DashboardHouse : IAsyncLifetime
{
    public RunningHouse House { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        House = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024)]), ("imac", []));
        Http = new HttpClient { BaseAddress = House.Server.HttpAddress };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await House.DisposeAsync();
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public static JsonElement Host(JsonElement house, string name) =>
        house.GetProperty("hosts").EnumerateArray().Single(h => h.GetProperty("name").GetString() == name);

    public static IReadOnlyList<string?> Names(JsonElement list, string property = "name") =>
        list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetProperty(property).GetString()).ToList();
}

/// <summary>`/api/house`, `/api/users/{user}/timeline` and the page, over the real server after a real move.</summary>
public sealed class the_house_api(DashboardHouse fixture) : IClassFixture<DashboardHouse>
{
    [Fact]
    public async Task a_login_shows_in_the_house_and_in_the_users_timeline()
    {
        var before = await fixture.GetAsync("/api/house");
        Assert.Equal("Europe/Berlin", before.GetProperty("time_zone").GetString());
        var basement = DashboardHouse.Host(before, "basement");
        Assert.Equal(("server", true, false), (basement.GetProperty("role").GetString(), basement.GetProperty("agent_online").GetBoolean(),
            basement.GetProperty("in_maintenance").GetBoolean()));
        Assert.Equal(["alice-desktop", "bob-desktop"], DashboardHouse.Names(basement.GetProperty("vms")));
        Assert.False(DashboardHouse.Host(before, "laptop").GetProperty("agent_online").GetBoolean());
        Assert.Empty(DashboardHouse.Host(before, "imac").GetProperty("seated").EnumerateArray());

        await fixture.House.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        var after = await Eventually.GetAsync(async () =>
        {
            var house = await fixture.GetAsync("/api/house");
            var imac = DashboardHouse.Host(house, "imac");
            return DashboardHouse.Names(imac.GetProperty("vms")).Contains("alice-desktop") && house.GetProperty("moves").GetArrayLength() == 0
                ? house.GetRawText() : null;
        }, "alice-desktop running on the imac in /api/house", TimeSpan.FromSeconds(60));
        var house = JsonDocument.Parse(after).RootElement;
        Assert.Equal(["alice"], DashboardHouse.Names(DashboardHouse.Host(house, "imac").GetProperty("seated")));
        Assert.Equal(["bob-desktop"], DashboardHouse.Names(DashboardHouse.Host(house, "basement").GetProperty("vms")));
        var alice = house.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("name").GetString() == "alice");
        Assert.Equal(("imac", "imac", "local"), (alice.GetProperty("seat").GetString(), alice.GetProperty("vm_host").GetString(), alice.GetProperty("mode").GetString()));
        Assert.Equal("follow_seat", alice.GetProperty("last_decision").GetProperty("rule").GetString());

        // The timeline: newest first, in words, with the rule and the ids that lead to the full record.
        var timeline = await fixture.GetAsync("/api/users/alice/timeline");
        Assert.Equal("alice", timeline.GetProperty("user").GetString());
        var entries = timeline.GetProperty("entries").EnumerateArray().ToList();
        // The iMac showed her desktop first (display entries, and again when it switches to the landed VM's own
        // display, whenever its inventory says so); the move is the story's spine.
        var kinds = entries.Select(e => e.GetProperty("kind").GetString()!).ToList();
        Assert.Contains("display_attached", kinds);
        entries = entries.Where(e => !e.GetProperty("kind").GetString()!.StartsWith("display_", StringComparison.Ordinal)).ToList();
        Assert.Equal(["migration_completed", "placement_decided", "seat_changed"], entries.Select(e => e.GetProperty("kind").GetString()));
        var decided = entries[1];
        Assert.Equal("follow_seat", decided.GetProperty("rule").GetString());
        Assert.StartsWith("decided (follow_seat) to move alice-desktop from basement to imac while it runs (live migration): ", decided.GetProperty("text").GetString());
        Assert.False(string.IsNullOrEmpty(decided.GetProperty("decision_id").GetString()));
        Assert.False(string.IsNullOrEmpty(entries[0].GetProperty("migration_id").GetString()));
        Assert.StartsWith("alice-desktop moved basement → imac in ", entries[0].GetProperty("text").GetString());
        Assert.Equal("alice sits at imac, 100% sure", entries[2].GetProperty("text").GetString());

        // Times are the house's.
        var at = InstantPattern.ExtendedIso.Parse(decided.GetProperty("at").GetString()!).Value;
        Assert.Equal(at.InZone(DateTimeZoneProviders.Tzdb["Europe/Berlin"]).ToString("HH:mm:ss", null), decided.GetProperty("local_time").GetString());
    }

    [Fact]
    public async Task an_unknown_user_gets_a_404_that_names_them()
    {
        using var response = await fixture.Http.GetAsync("/api/users/zed/timeline");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("no user 'zed' in the house", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task a_user_with_no_decisions_yet_has_an_empty_timeline()
    {
        var timeline = await fixture.GetAsync("/api/users/dave/timeline");

        Assert.Equal(0, timeline.GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task the_page_is_one_document_that_loads_nothing_from_elsewhere()
    {
        using var response = await fixture.Http.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("new EventSource(\"/api/live\")", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("innerHTML", html);
    }
}
