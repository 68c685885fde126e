using System.Text.Json;
using NodaTime;
using NodaTime.Text;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>`presence explain|history|state` as processes against the database of a real run.</summary>
public sealed class asking_the_command_line(AliceMovedToTheImac run) : IClassFixture<AliceMovedToTheImac>
{
    private static void Says(BuiltProgram.Run run, string text) =>
        Assert.True(run.Stdout.Contains(text, StringComparison.Ordinal), $"expected the output to say:\n{text}\nbut it was:\n{run.Output}");

    [Fact]
    public async Task explain_prints_the_story_in_plain_words()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "explain", run.Decision.DecisionId);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.StartsWith($"Decision {run.Decision.DecisionId}", result.Stdout);
        Says(result, $"Decision {run.Decision.DecisionId} for alice (alice-desktop)");
        Says(result, "session on imac by alice (");
        Says(result, "[login-1]");
        Says(result, "Where alice was: at imac, confidence 100%");
        Says(result, "prepare_incoming to imac");
        Says(result, "Outcome: Done at");
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
        Assert.Contains("'m-nosuchmove' is not a decision, migration, operation or signal id", result.Stderr);
    }

    [Fact]
    public async Task history_and_state_read_the_same_run()
    {
        var history = await PresenceCli.AgainstAsync(run.Server, "history", "alice",
            "--since", InstantPattern.ExtendedIso.Format(run.Login.At - Duration.FromSeconds(1)));
        var state = await PresenceCli.AgainstAsync(run.Server, "state", "alice", "--at", InstantPattern.ExtendedIso.Format(run.Completed.At));

        Assert.True(history.ExitCode == 0, history.Output);
        Says(history, "signal: session on imac by alice (");
        Says(history, "[login-1]");
        Says(history, run.Decision.DecisionId);
        Assert.True(state.ExitCode == 0, state.Output);
        Says(state, "seat:      imac (confidence 100%)");
        Says(state, "vm:        alice-desktop on imac");
        Says(state, "mode:      local");
    }

    [Fact]
    public async Task a_bad_instant_fails_naming_the_option()
    {
        var result = await PresenceCli.AgainstAsync(run.Server, "state", "alice", "--at", "teatime");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("at 'teatime' is not an instant", result.Stderr);
    }
}
