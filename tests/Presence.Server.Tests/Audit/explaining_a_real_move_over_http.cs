using System.Net;
using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>GET /api/explain/{id}, /api/users/{user}/history and /api/users/{user}/state?at= over a real run.</summary>
public sealed class explaining_a_real_move_over_http(AliceMovedToTheImac run) : IClassFixture<AliceMovedToTheImac>
{
    private async Task<(HttpStatusCode Status, JsonElement Json)> GetAsync(string path)
    {
        using var response = await run.Http.GetAsync(path);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, json);
    }

    private static string Iso(Instant at) => InstantPattern.ExtendedIso.Format(at);

    [Fact]
    public async Task a_decision_id_gives_the_whole_story()
    {
        var (status, story) = await GetAsync($"/api/explain/{run.Decision.DecisionId}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("decision", "alice", "decided"), (story.GetProperty("kind").GetString(), story.GetProperty("user").GetString(), story.GetProperty("verdict").GetString()));
        Assert.Equal("login-1", story.GetProperty("signals")[0].GetProperty("id").GetString());
        Assert.Equal("imac", story.GetProperty("seat").GetProperty("seat").GetString());
        Assert.Equal(1.0, story.GetProperty("seat").GetProperty("confidence").GetDouble());
        Assert.Equal(("follow_seat", "live_migration"), (story.GetProperty("rule").GetString(), story.GetProperty("mode").GetString()));
        // Shown first, then moved; once the iMac reports the landed VM, it is told to show its own display (timing).
        var commands = story.GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("command").GetString()).ToList();
        Assert.Equal(["attach_display", "prepare_incoming", "migrate"], commands.Take(3));
        Assert.All(commands.Skip(3), c => Assert.Equal("attach_display", c));
        var outcome = story.GetProperty("outcome");
        Assert.Equal("completed", outcome.GetProperty("status").GetString());
        Assert.Equal(run.Completed.TotalTimeMs, outcome.GetProperty("total_time_ms").GetInt64());
        Assert.True(story.GetProperty("estimated_seconds").GetDouble() > 0);
        Assert.Contains("What was seen:", story.GetProperty("text").GetString());
        Assert.Equal("Europe/Berlin", story.GetProperty("time_zone").GetString());
    }

    [Fact]
    public async Task a_migration_id_finds_its_user_and_decision()
    {
        var (status, story) = await GetAsync($"/api/explain/{run.MigrationId}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("migration", "alice", run.Decision.DecisionId), (story.GetProperty("kind").GetString(), story.GetProperty("user").GetString(), story.GetProperty("decision_id").GetString()));
    }

    [Fact]
    public async Task an_unknown_id_is_a_404_that_names_it()
    {
        var (status, error) = await GetAsync("/api/explain/d-000000000000");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("unknown_id", error.GetProperty("problem").GetString());
        Assert.Contains("'d-000000000000' is not a decision, migration, operation or signal id", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task the_history_lists_the_signal_the_decision_and_the_outcome_in_a_window()
    {
        var since = Iso(run.Login.At - Duration.FromSeconds(1));
        var (status, history) = await GetAsync($"/api/users/alice/history?since={since}");

        Assert.Equal(HttpStatusCode.OK, status);
        var lines = history.GetProperty("lines").EnumerateArray().ToList();
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "signal_recorded" && l.GetProperty("id").GetString() == "login-1");
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "placement_decided" && l.GetProperty("id").GetString() == run.Decision.DecisionId);
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "migration_completed");

        var (_, later) = await GetAsync($"/api/users/alice/history?since={Iso(run.Completed.At + Duration.FromSeconds(1))}");
        Assert.Empty(later.GetProperty("lines").EnumerateArray());
    }

    [Fact]
    public async Task the_state_at_an_instant_is_as_it_was_then()
    {
        var (_, moving) = await GetAsync($"/api/users/alice/state?at={Iso(run.Decision.At)}");
        var (status, after) = await GetAsync($"/api/users/alice/state?at={Iso(run.Completed.At)}");

        Assert.Equal(("imac", "basement", "moving"), (moving.GetProperty("seat").GetString(), moving.GetProperty("vm_host").GetString(), moving.GetProperty("mode").GetString()));
        var pending = Assert.Single(moving.GetProperty("pending").EnumerateArray());
        Assert.Equal(("migration", run.MigrationId), (pending.GetProperty("kind").GetString(), pending.GetProperty("id").GetString()));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("imac", "imac", "local"), (after.GetProperty("seat").GetString(), after.GetProperty("vm_host").GetString(), after.GetProperty("mode").GetString()));
        Assert.Empty(after.GetProperty("pending").EnumerateArray());
    }

    [Fact]
    public async Task an_instant_before_the_history_is_a_400_that_says_where_it_starts()
    {
        var (status, error) = await GetAsync($"/api/users/alice/state?at={Iso(run.Login.At - Duration.FromHours(1))}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("nothing was recorded for alice at or before", error.GetProperty("error").GetString());
        Assert.Contains("the history starts at", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task a_bad_instant_is_a_400_that_names_the_parameter()
    {
        var (status, error) = await GetAsync("/api/users/alice/state?at=tomorrow");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("at 'tomorrow' is not an instant", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task an_unknown_user_is_a_404_that_names_the_users()
    {
        var (status, error) = await GetAsync("/api/users/mallory/history");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no user 'mallory'", error.GetProperty("error").GetString());
        Assert.Contains("alice", error.GetProperty("error").GetString());
    }
}
