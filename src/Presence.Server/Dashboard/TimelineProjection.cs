using JasperFx.Events;
using Marten;
using Marten.Events.Projections;

namespace Presence.Server.Dashboard;

/// <summary>
/// Each user's timeline, a row per line (<see cref="TimelineRow"/>), kept inline (same transaction as the events) so
/// the dashboard never shows a decision whose line is missing, and never reads the raw stream. Writing a line reads
/// nothing: the row is inserted blind. Older lines are pruned now and then rather than with every line (a statement
/// of its own each time): with a user's first line in this process and every <see cref="PruneEvery"/>th after it, their
/// lines beyond the newest <see cref="UserTimeline.Keep"/> go, so a user keeps fewer than Keep + PruneEvery of them.
/// </summary>
public sealed class TimelineProjection : EventProjection
{
    public const int PruneEvery = 32;

    // Lines written per user by this process: counted here, as the stream's numbers are not known yet (Marten's quick
    // append numbers events in the database) and a count in the database would be a read.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> written = new(StringComparer.Ordinal);

    public TimelineProjection()
    {
        foreach (var type in UserTimeline.EventTypes)
        {
            IncludeType(type);
        }
    }

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (TimelineRow.LineOf(e) is not { } line)
        {
            return ValueTask.CompletedTask;
        }

        TimelineRow.Insert(operations, line.User, line.Entry);
        if (written.AddOrUpdate(line.User, 1, (_, n) => n + 1) % PruneEvery == 1)
        {
            TimelineRow.Prune(operations, line.User, UserTimeline.Keep);
        }

        return ValueTask.CompletedTask;
    }
}
