using JasperFx.Events;
using Marten.Events.Aggregation;
using Marten.Services.BatchQuerying;

namespace Presence.Server.Dashboard;

/// <summary>
/// Each user's timeline, kept inline (same transaction as the events) so the dashboard never shows a decision
/// whose line is missing, and never reads the raw stream.
/// </summary>
public partial class UserTimelineProjection : SingleStreamProjection<UserTimeline, string>
{
    public UserTimelineProjection()
    {
        // Explicit Evolve sees every event unless told otherwise; host streams and bookkeeping events make no line.
        foreach (var type in UserTimeline.EventTypes)
        {
            IncludeType(type);
        }
    }

    /// <summary>
    /// Reads the timelines of <paramref name="users"/> in the handler's one read before deciding. On commit this
    /// projection rewrites the timeline of every user given a line, and reads it first unless the session already
    /// holds it (an identity-map session, PresenceApp): a round trip of its own after deciding, on the path of every
    /// login. Only for inputs that usually make a line: reading a timeline for each idle signal would cost more.
    /// None to read adds no statement: Marten would send one for an empty list, in every burst of idle signals.
    /// </summary>
    public static Task ReadAheadAsync(IBatchedQuery batch, IEnumerable<string> users)
    {
        string[] ids = [.. users.Distinct()];
        return ids.Length == 0 ? Task.CompletedTask : batch.LoadMany<UserTimeline>().ById(ids);
    }

    public override UserTimeline Evolve(UserTimeline? snapshot, string id, IEvent e) =>
        (snapshot ?? new UserTimeline { Id = id }).With(e.Data);
}
