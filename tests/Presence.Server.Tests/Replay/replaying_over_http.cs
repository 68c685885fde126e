using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// `GET /api/users/{user}/replay` decides a stored history again under the house as configured; `POST` under the
/// settings in the body. An automation can ask "would this setting have changed anything?" before making it.
/// </summary>
public sealed class replaying_over_http : IAsyncLifetime
{
    private static readonly string Recorded = Repository.PathOf("eventstore", "histories", "ping-pong-alice.jsonl");
    private TestServer server = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        // The server runs the very house the history was recorded in.
        var house = new JsonObject { ["House"] = HistoryFile.Read(Recorded).Header.House!.DeepClone() };
        server = await TestServer.StartAsync(houseJson: house.ToJsonString());
        await using (var session = server.Store.LightweightSession())
        {
            await HistoryTransfer.ImportAsync(session, Recorded, default);
        }

        http = new HttpClient { BaseAddress = server.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task under_the_house_it_was_recorded_in_nothing_would_differ()
    {
        var answer = await http.GetFromJsonAsync<JsonElement>("/api/users/alice/replay");

        Assert.True(answer.GetProperty("identical").GetBoolean(), answer.GetProperty("text").GetString());
        Assert.Equal(0, answer.GetProperty("differences").GetInt32());
    }

    [Fact]
    public async Task with_a_cooldown_in_the_body_the_second_move_would_not_happen()
    {
        var response = await http.PostAsync("/api/users/alice/replay", Json("""{ "House": { "Policy": { "Cooldown": "10m" } } }"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(answer.GetProperty("identical").GetBoolean());
        var differing = answer.GetProperty("differing").EnumerateArray().ToList();
        Assert.Contains(differing, s => s.GetProperty("replayed").EnumerateArray().Any(d => d.GetProperty("rule").GetString() == "cooldown"));
        Assert.Contains("would come out differently", answer.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("not json", "the body is not settings JSON")]
    [InlineData("""{ "Policy": { "Cooldown": "ten minutes" } }""", "Cooldown")]
    public async Task settings_that_cannot_work_are_a_bad_request_naming_them(string body, string named)
    {
        var response = await http.PostAsync("/api/users/alice/replay", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(named, error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task a_user_without_a_history_is_not_found_and_a_bad_instant_is_a_bad_request()
    {
        var unknown = await http.GetAsync("/api/users/zoe/replay");
        var badInstant = await http.GetAsync("/api/users/alice/replay?from=teatime");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no history for user 'zoe'", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badInstant.StatusCode);
        Assert.Contains("from 'teatime' is not an instant", await badInstant.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
