using System.Text.Json.Nodes;
using Presence.Server.Dashboard;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// A person's decisions and outcomes as Home Assistant `event` entity payloads (HA event.py: a JSON object with
/// `event_type`, one of the entity's `event_types`; the other keys become attributes). They come from the user's
/// timeline (the dashboard's projection), whose lines are exactly the decisions and outcomes worth telling.
/// </summary>
public static class HaEvents
{
    /// <summary>Timeline kinds (UserTimeline.EventTypes, snake case) and the event type an automation triggers on.</summary>
    private static readonly IReadOnlyDictionary<string, string> ByKind = new Dictionary<string, string>
    {
        ["placement_decided"] = "decided",
        ["placement_proposed"] = "proposal",
        ["proposal_answered"] = "answered",
        ["move_suppressed"] = "suppressed",
        ["migration_completed"] = "moved",
        ["vm_resumed"] = "moved",
        ["vm_suspended"] = "suspended",
        ["display_attached"] = "shown",
        ["migration_failed"] = "failed",
        ["display_attach_failed"] = "failed",
        ["suspend_failed"] = "failed",
        ["resume_failed"] = "failed",
        ["request_refused"] = "refused",
        ["hold_changed"] = "hold",
        ["automation_level_changed"] = "automation",
        ["seat_changed"] = "seat",
        ["leaving_detected"] = "leaving",
    };

    public static IReadOnlyList<string> Types { get; } = ByKind.Values.Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The payload for a timeline line, or null for one that is bookkeeping (settling waits). <paramref name="seq"/> is
    /// the line's number (TimelineRow.Id), increasing with each of the user's lines: two server nodes both send each
    /// event, and it tells the copies apart.
    /// </summary>
    public static byte[]? Payload(TimelineEntry entry, long seq)
    {
        if (!ByKind.TryGetValue(entry.Kind, out var type))
        {
            return null;
        }

        var payload = new JsonObject
        {
            ["event_type"] = type,
            ["kind"] = entry.Kind,
            ["text"] = entry.Text,
            ["at"] = entry.At.ToString(),
            ["seq"] = seq,
        };
        if (entry.Rule is not null)
        {
            payload["rule"] = entry.Rule;
        }

        if (entry.DecisionId is not null)
        {
            payload["decision_id"] = entry.DecisionId;
        }

        if (entry.MigrationId is not null)
        {
            payload["migration_id"] = entry.MigrationId;
        }

        return System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString());
    }
}
