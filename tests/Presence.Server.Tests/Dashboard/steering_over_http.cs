using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Server.Identities;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// The dashboard's controls as HTTP (issue 12 §2): the MQTT contract's JSON posted to /api/users/{user}/requests and
/// /api/hosts/{host}/maintenance reaches the same handlers, recorded with who asked. On a server listening only on
/// this computer a local caller is `dashboard`; once HTTP listens beyond it, only a controller's name and enrolled
/// secret may steer (reading stays open with Http:AllowUnauthenticated). What may not be asked is answered at once
/// with the reason, and nothing changes.
/// </summary>
public sealed class steering_over_http
{
    [Fact]
    public async Task a_local_caller_steers_as_the_dashboard_and_bad_controls_get_their_reason()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        using var http = new HttpClient { BaseAddress = house.Server.HttpAddress };

        var taken = await http.PostAsync("/api/users/alice/requests", Json("""{"action":"hold"}"""));
        Assert.Equal(HttpStatusCode.Accepted, taken.StatusCode);
        var answer = await taken.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("dashboard", answer.GetProperty("by").GetString());
        Assert.True((await house.SagaAsync("alice"))!.Held);
        var asked = (await house.StreamAsync("alice")).OfType<SignalRecorded>().Single(s => s.Evidence.Id == answer.GetProperty("id").GetString());
        Assert.Equal(("hold", "dashboard"), (asked.Evidence.Detail("action"), asked.Evidence.Detail("by")));

        var before = (await house.StreamAsync("alice")).Count;
        await Refused(http.PostAsync("/api/users/bob/requests", Json("""{"action":"move","target":"imac"}""")),
            HttpStatusCode.BadRequest, "target 'imac' is not among bob's allowed hosts (basement)");
        await Refused(http.PostAsync("/api/users/alice/requests", Json("""{"action":"teleport"}""")),
            HttpStatusCode.BadRequest, "field 'action' must be one of follow|hold|release|move|home|approve|decline|automation, got \"teleport\"");
        await Refused(http.PostAsync("/api/users/alice/requests", Json("""{"action":"automation"}""")),
            HttpStatusCode.BadRequest, "required field 'level' is missing; expected one of manual|recommend|automatic");
        await Refused(http.PostAsync("/api/users/alice/requests", Json("{not json")), HttpStatusCode.BadRequest, "not valid JSON");
        await Refused(http.PostAsync("/api/users/zoe/requests", Json("""{"action":"hold"}""")), HttpStatusCode.NotFound, "no user 'zoe' in the house");
        await Refused(http.PostAsync("/api/hosts/attic/maintenance", Json("""{"state":"on"}""")), HttpStatusCode.NotFound, "no host 'attic' in the house");
        await Refused(http.PostAsync("/api/users/alice/requests", Json("{\"action\":\"hold\",\"pad\":\"" + new string('x', 70_000) + "\"}")),
            HttpStatusCode.RequestEntityTooLarge, "more than any control needs");

        // A form, as a page elsewhere could make a visitor's browser send without asking this server first.
        await Refused(http.PostAsync("/api/users/alice/requests", new FormUrlEncodedContent([new("action", "release")])),
            HttpStatusCode.UnsupportedMediaType, "application/json");
        using (var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/users/alice/requests") { Content = Json("""{"action":"release"}""") })
        {
            crossSite.Headers.Add("Origin", "http://evil.example");
            await Refused(http.SendAsync(crossSite), HttpStatusCode.Forbidden, "another site (http://evil.example)");
        }

        Assert.Equal(before, (await house.StreamAsync("alice")).Count);
        Assert.True((await house.SagaAsync("alice"))!.Held);

        var moved = await http.PostAsync("/api/users/alice/requests", Json("""{"action":"move","target":"imac","id":"web-move-1"}"""));
        Assert.Equal(HttpStatusCode.Accepted, moved.StatusCode);
        Assert.Equal("web-move-1", (await moved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        await Eventually.TrueAsync(async () => (await house.SagaAsync("alice"))!.VmHost == "imac", "alice's desktop on the imac, as asked", TimeSpan.FromSeconds(60));

        var maintenance = await http.PostAsync("/api/hosts/imac/maintenance", Json("""{"state":"on"}"""));
        Assert.Equal(HttpStatusCode.Accepted, maintenance.StatusCode);
        await using (var session = house.Server.Store.QuerySession())
        {
            var imac = (await session.LoadAsync<HostState>(HostState.StreamId("imac")))!;
            Assert.True(imac.InMaintenance);
            Assert.Equal("switched on the dashboard", imac.MaintenanceReason);
        }
    }

    [Fact]
    public async Task beyond_this_computer_only_a_controller_with_its_secret_may_steer()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, TestAgents.DefaultSpeed,
            ["--Urls=http://0.0.0.0:0", $"--{HttpExposure.OptInKey}=true"], ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await EnrollAsync(house, ("homeassistant", IdentityRole.Controller, "ha-secret-1"), ("imac", IdentityRole.Host, "imac-secret-1"));
        using var http = new HttpClient { BaseAddress = new UriBuilder(house.Server.HttpAddress) { Host = "127.0.0.1" }.Uri };

        // Reading is what Http:AllowUnauthenticated opened; steering is not.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/house")).StatusCode);
        var anonymous = await http.PostAsync("/api/users/alice/requests", Json("""{"action":"hold"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("controls need a controller's name and secret", await anonymous.Content.ReadAsStringAsync());

        await Refused(PostAs(http, "homeassistant", "wrong"), HttpStatusCode.Unauthorized, "'homeassistant' and that secret are not a controller of this house");
        await Refused(PostAs(http, "imac", "imac-secret-1"), HttpStatusCode.Unauthorized, "'imac' and that secret are not a controller of this house");
        await Refused(PostAs(http, "presence-cli", "never-enrolled"), HttpStatusCode.Unauthorized, "'presence-cli' and that secret are not a controller");
        Assert.False((await house.SagaAsync("alice"))?.Held ?? false);

        var taken = await PostAs(http, "homeassistant", "ha-secret-1");
        Assert.Equal(HttpStatusCode.Accepted, taken.StatusCode);
        Assert.Equal("homeassistant", (await taken.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("by").GetString());
        Assert.True((await house.SagaAsync("alice"))!.Held);
        Assert.Contains((await house.StreamAsync("alice")).OfType<SignalRecorded>(),
            s => s.Evidence.Detail("action") == "hold" && s.Evidence.Detail("by") == "homeassistant");
    }

    private static Task<HttpResponseMessage> PostAs(HttpClient http, string name, string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/users/alice/requests") { Content = Json("""{"action":"hold"}""") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{name}:{secret}")));
        return http.SendAsync(request);
    }

    private static async Task EnrollAsync(RunningHouse house, params (string Name, IdentityRole Role, string Secret)[] identities)
    {
        await using var session = house.Server.Store.LightweightSession();
        foreach (var (name, role, secret) in identities)
        {
            session.Store(Enrolment.Of(name, role, secret, NodaTime.SystemClock.Instance.GetCurrentInstant()));
        }

        await session.SaveChangesAsync();
    }

    private static async Task Refused(Task<HttpResponseMessage> sent, HttpStatusCode status, string reason)
    {
        var response = await sent;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Contains(reason, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
