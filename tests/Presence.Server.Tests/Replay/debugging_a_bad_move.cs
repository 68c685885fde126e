using NodaTime;
using NodaTime.Text;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// docs/debugging-a-bad-move.md, verb by verb, as processes on a recorded history: import it, list it, explain
/// the second move, look at the state in the middle of it, and replay it with a cooldown (exit 1: it would differ),
/// then without one (exit 0: nothing would).
/// </summary>
public sealed class debugging_a_bad_move
{
    private static readonly string Recorded = Repository.PathOf("eventstore", "histories", "ping-pong-alice.jsonl");
    private static readonly string Fix = Repository.PathOf("eventstore", "histories", "ping-pong.fix.json");

    [Fact]
    public async Task import_explain_look_back_and_replay_with_changed_settings()
    {
        var database = $"--ConnectionStrings:Presence={await PostgresCluster.NewDatabaseAsync("debugging")}";
        var moves = HistoryFile.Read(Recorded).Events.Select(e => e.Data).OfType<PlacementDecided>()
            .Where(d => d.Mode == PlacementMode.LiveMigration).ToList();
        var second = moves[1];

        var import = await PresenceCli.RunAsync("import", Recorded, database);
        Assert.True(import.ExitCode == 0, import.Output);
        Assert.Contains("events imported as the history of alice", import.Stdout);

        var again = await PresenceCli.RunAsync("import", Recorded, database);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("user 'alice' already has a history here", again.Stderr);

        var history = await PresenceCli.RunAsync("history", "alice", database);
        Assert.True(history.ExitCode == 0, history.Output);
        Assert.All(moves, m => Assert.Contains(m.DecisionId, history.Stdout));

        var explain = await PresenceCli.RunAsync("explain", second.DecisionId, database);
        Assert.True(explain.ExitCode == 0, explain.Output);
        Assert.Contains(Rules.FollowSeat, explain.Stdout);
        Assert.Contains("kids", explain.Stdout);

        // Knowing only the login that started it is enough: a signal's id tells the story of the decision it led to.
        var login = HistoryFile.Read(Recorded).Events.Select(e => e.Data).OfType<SignalRecorded>().First(r => second.EvidenceIds.Contains(r.Evidence.Id));
        var fromSignal = await PresenceCli.RunAsync("explain", login.Evidence.Id, database);
        Assert.True(fromSignal.ExitCode == 0, fromSignal.Output);
        // The login's first decision is showing the desktop at once; the move followed when the hold-down ended.
        var shownFirst = HistoryFile.Read(Recorded).Events.Select(e => e.Data).OfType<PlacementDecided>().First(d => d.EvidenceIds.Contains(login.Evidence.Id));
        Assert.Equal(PlacementMode.AttachDisplay, shownFirst.Mode);
        Assert.StartsWith($"Signal {login.Evidence.Id} (decision {shownFirst.DecisionId})", fromSignal.Stdout);

        var during = InstantPattern.ExtendedIso.Format(second.At + Duration.FromMilliseconds(100));
        var state = await PresenceCli.RunAsync("state", "alice", "--at", during, database);
        Assert.True(state.ExitCode == 0, state.Output);
        Assert.Contains("seat:      kids", state.Stdout);

        var withCooldown = await PresenceCli.RunAsync("replay", "alice", "--history", Recorded, "--policy", Fix);
        Assert.True(withCooldown.ExitCode == Counterfactual.Different, withCooldown.Output);
        Assert.Contains("would come out differently", withCooldown.Stdout);
        Assert.Contains("(cooldown):", withCooldown.Stdout);

        var asRecorded = await PresenceCli.RunAsync("replay", "alice", "--history", Recorded);
        Assert.True(asRecorded.ExitCode == Counterfactual.Identical, asRecorded.Output);
        Assert.Contains("every one as recorded", asRecorded.Stdout);

        var fromStore = await PresenceCli.RunAsync("replay", "alice", "--policy", Fix, database);
        Assert.True(fromStore.ExitCode == Counterfactual.Different, fromStore.Output);
    }

    [Fact]
    public async Task bad_input_to_replay_exits_two_naming_what_was_wrong()
    {
        var missing = await PresenceCli.RunAsync("replay", "alice", "--history", "/nonexistent/alice.jsonl");
        Assert.Equal(Counterfactual.BadInput, missing.ExitCode);
        Assert.Contains("history file '/nonexistent/alice.jsonl' does not exist", missing.Stderr);

        var wrongUser = await PresenceCli.RunAsync("replay", "bob", "--history", Recorded);
        Assert.Equal(Counterfactual.BadInput, wrongUser.ExitCode);
        Assert.Contains("is the history of 'alice', not of 'bob'", wrongUser.Stderr);

        var badPolicy = await PresenceCli.RunAsync("replay", "alice", "--history", Recorded, "--policy", Recorded);
        Assert.Equal(Counterfactual.BadInput, badPolicy.ExitCode);
        Assert.Contains("(--policy) is not valid JSON", badPolicy.Stderr);

        var badInstant = await PresenceCli.RunAsync("replay", "alice", "--history", Recorded, "--from", "teatime");
        Assert.Equal(Counterfactual.BadInput, badInstant.ExitCode);
        Assert.Contains("from 'teatime' is not an instant", badInstant.Stderr);
    }

    [Fact]
    public async Task replay_is_a_verb_of_the_command_line_with_its_own_help()
    {
        var help = await PresenceCli.RunAsync("replay", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--policy", help.Output);
        Assert.Contains("--history", help.Output);
    }
}
