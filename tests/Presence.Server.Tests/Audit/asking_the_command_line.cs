using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>`presence explain|history|state` as processes against the database of a real run.</summary>
public sealed class asking_the_command_line(AliceMovedToTheImac run) : IClassFixture<AliceMovedToTheImac>
{
    [Fact]
    public async Task explain_prints_the_story_in_plain_words()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "explain", run.Decision.DecisionId);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"Decision {run.Decision.DecisionId} for alice (alice-desktop)", result.Stdout);
        Assert.Contains("session on imac by alice (state=login, seat=console)  [login-1]", result.Stdout);
        Assert.Contains("Where alice was: at imac, confidence 100%", result.Stdout);
        Assert.Contains("prepare_incoming to imac", result.Stdout);
        Assert.Contains("Outcome: Done at", result.Stdout);
    }

    [Fact]
    public async Task explain_with_json_prints_what_the_api_answers_and_nothing_else()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "explain", run.MigrationId, "--user", "alice", "--json");

        Assert.True(result.ExitCode == 0, result.Output);
        var story = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(("migration", run.Decision.DecisionId), (story.GetProperty("kind").GetString(), story.GetProperty("decision_id").GetString()));
        Assert.Equal("completed", story.GetProperty("outcome").GetProperty("status").GetString());
    }

    [Fact]
    public async Task an_unknown_id_fails_naming_it()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "explain", "m-nosuchmove");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'m-nosuchmove' is not a decision, migration or operation id", result.Stderr);
    }

    [Fact]
    public async Task history_and_state_read_the_same_run()
    {
        var history = await PresenceCli.AgainstAsync(run.Server, "history", "alice",
            "--since", InstantPattern.ExtendedIso.Format(run.Login.At - Duration.FromSeconds(1)));
        var state = await PresenceCli.AgainstAsync(run.Server, "state", "alice", "--at", InstantPattern.ExtendedIso.Format(run.Completed.At));

        Assert.True(history.ExitCode == 0, history.Output);
        Assert.Contains("signal: session on imac by alice (state=login, seat=console)  [login-1]", history.Stdout);
        Assert.Contains(run.Decision.DecisionId, history.Stdout);
        Assert.True(state.ExitCode == 0, state.Output);
        Assert.Contains("seat:      imac (confidence 100%)", state.Stdout);
        Assert.Contains("vm:        alice-desktop on imac", state.Stdout);
        Assert.Contains("mode:      local", state.Stdout);
    }

    [Fact]
    public async Task a_bad_instant_fails_naming_the_option()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "state", "alice", "--at", "teatime");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("at 'teatime' is not an instant", result.Stderr);
    }
}
