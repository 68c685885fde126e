using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Words;

namespace Presence.Server.Dashboard;

/// <summary>
/// One line of a user's timeline: what was decided or happened, in words, with the rule and the ids that lead to
/// the full record (`presence explain`, the event store). <see cref="At"/> is the event's domain time.
/// </summary>
public sealed record TimelineEntry(Instant At, string Kind, string? Rule, string Text, string? DecisionId = null, string? MigrationId = null);

/// <summary>
/// The words of a user's timeline: which events make a line and what each line says. The lines themselves are rows
/// of their own (<see cref="TimelineRow"/>), written as the events are; the dashboard shows the newest
/// <see cref="Keep"/>, the stream keeps everything.
/// </summary>
public static class UserTimeline
{
    /// <summary>How many lines a timeline shows and keeps (TimelineProjection prunes older ones at times).</summary>
    public const int Keep = 50;

    /// <summary>Every event that makes a line; the rest (progress, command hand-offs, evidence) is bookkeeping.</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(SeatChanged), typeof(PlacementDecided), typeof(PlacementProposed), typeof(ProposalAnswered), typeof(MoveSuppressed),
        typeof(SettlingStarted), typeof(SettlingLapsed), typeof(RequestRefused), typeof(LeavingDetected), typeof(HoldChanged), typeof(AutomationLevelChanged),
        typeof(MigrationCompleted), typeof(MigrationFailed), typeof(DisplayAttached), typeof(DisplayAttachFailed),
        typeof(VmSuspended), typeof(SuspendFailed), typeof(VmResumed), typeof(ResumeFailed),
    ];

    /// <summary>The line for an event, or null for one that is not part of the timeline.</summary>
    public static TimelineEntry? Describe(object @event) =>
        @event is IDomainEvent e && EventTypes.Contains(e.GetType()) && EventText.Of(e) is { } text
            ? new TimelineEntry(e.At, Wording.Snake(e.GetType().Name), RuleOf(e), Sentence(e, text), DecisionOf(e), MoveOf(e))
            : null;

    /// <summary>The one line that says who, as the page lists every user's timeline apart: "alice sits at imac".</summary>
    private static string Sentence(IDomainEvent e, string text) => e is SeatChanged s ? $"{s.User} {text}" : text;

    private static string? RuleOf(IDomainEvent e) => e switch
    {
        PlacementDecided d => d.Rule,
        PlacementProposed p => p.Rule,
        MoveSuppressed m => m.Rule,
        _ => null,
    };

    private static string? DecisionOf(IDomainEvent e) => e switch
    {
        PlacementDecided d => d.DecisionId,
        PlacementProposed p => p.DecisionId,
        ProposalAnswered a => a.DecisionId,
        MoveSuppressed m => m.DecisionId,
        _ => null,
    };

    private static string? MoveOf(IDomainEvent e) => e switch
    {
        MigrationCompleted or MigrationFailed or VmSuspended or SuspendFailed or VmResumed or ResumeFailed => UserHistory.MoveIdOf(e),
        _ => null,
    };
}
