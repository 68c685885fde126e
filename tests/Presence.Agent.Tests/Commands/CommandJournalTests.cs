using Microsoft.Extensions.Logging.Abstractions;
using Presence.Agent.Commands;
using Presence.Contracts.Agents;

namespace Presence.Agent.Tests.Commands;

public sealed class CommandJournalTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("presence-journal-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Only_the_most_recent_published_outcomes_are_kept_and_running_commands_never_forgotten()
    {
        var journal = new CommandJournal(directory, capacity: 3, NullLogger.Instance);
        journal.Load(Interrupted);
        journal.Begin(Record("long-running"));
        for (var i = 1; i <= 5; i++)
        {
            journal.Begin(Record($"c{i}"));
            journal.Finish($"c{i}", Event($"c{i}", AgentEventState.Completed));
            journal.MarkPublished($"c{i}");
        }

        var reloaded = new CommandJournal(directory, capacity: 3, NullLogger.Instance);
        reloaded.Load(Interrupted);

        Assert.Null(reloaded.Find("c1"));
        Assert.Null(reloaded.Find("c2"));
        Assert.Equal(["c3", "c4", "c5"], new[] { "c3", "c4", "c5" }.Where(id => reloaded.Find(id)?.Final?.State == AgentEventState.Completed));
        var interrupted = reloaded.Find("long-running")!;
        Assert.Equal((AgentEventState.Failed, "interrupted"), (interrupted.Final!.State, interrupted.Final.Error));
        Assert.Contains(reloaded.Unpublished(), r => r.CommandId == "long-running");
    }

    [Fact]
    public void An_unreadable_journal_is_moved_aside_rather_than_blocking_the_start()
    {
        File.WriteAllText(Path.Combine(directory, "commands.json"), "{ not json");
        var journal = new CommandJournal(directory, capacity: 10, NullLogger.Instance);

        journal.Load(Interrupted);

        Assert.Null(journal.Find("anything"));
        Assert.Single(Directory.GetFiles(directory, "commands.json.unreadable-*"));
    }

    private static CommandRecord Record(string id) => new(id, CommandType.Suspend, "alice-desktop", Event(id, AgentEventState.Accepted), null);

    private static AgentEvent Event(string id, AgentEventState state) => new() { CommandId = id, Vm = "alice-desktop", State = state, Id = id + state };

    private static AgentEvent Interrupted(CommandRecord record) =>
        new() { CommandId = record.CommandId, Vm = record.Vm, State = AgentEventState.Failed, Error = "interrupted" };
}
