using JasperFx.Events;
using Marten.Events.Aggregation;

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

    public override UserTimeline Evolve(UserTimeline? snapshot, string id, IEvent e) =>
        (snapshot ?? new UserTimeline { Id = id }).With(e.Data);
}
