using NodaTime;
using Presence.Domain.Placement;
using Presence.Domain.Users;

namespace Presence.Domain.Audit;

/// <summary>One piece of evidence the decision rested on, in the sender's own words.</summary>
public sealed record SignalSeen(string Id, Instant At, string Kind, string Host, string? User, IReadOnlyDictionary<string, string> Details, bool Late, string Text);

/// <summary>Where the decider believed the user sat when it decided, and how sure it was (0..1).</summary>
public sealed record SeatInferred(string? Seat, string? PreviousSeat, double Confidence, IReadOnlyList<string> EvidenceIds, Instant At);

/// <summary>A command an agent was sent to carry the decision out.</summary>
public sealed record CommandSent(Instant At, string Host, string Command, string CommandId, string Vm, string Text);

/// <summary>How it ended, with the times the agents measured. Status: completed, failed, in_progress, suppressed, waiting, declined, decided.</summary>
public sealed record StoryOutcome(
    string Status,
    Instant? At,
    string? Reason,
    long? TotalTimeMs,
    long? DowntimeMs,
    double? SecondsAfterDecision,
    string Text);

/// <summary>
/// Why a move happened (or did not): the story of one decision, and of the migration or operation that carried it
/// out, for someone who does not know the decider. <see cref="Text"/> is the same story as plain text on the house's clock.
/// </summary>
public sealed record Explanation(
    string User,
    string Id,
    string Kind,
    string? DecisionId,
    string Verdict,
    Instant At,
    string? Vm,
    string? From,
    string? To,
    PlacementMode? Mode,
    string? Rule,
    string? Reason,
    IReadOnlyList<string> MoveIds,
    IReadOnlyList<SignalSeen> Signals,
    SeatInferred? Seat,
    IReadOnlyList<RejectedAlternative> Rejected,
    double? EstimatedSeconds,
    IReadOnlyList<CommandSent> Commands,
    StoryOutcome Outcome,
    string? PolicyVersion,
    string TimeZone,
    string Text);

/// <summary>One line of a user's history: what happened, when by the house's clock, and its id (decision, move, wait or signal).</summary>
public sealed record HistoryLine(long Version, Instant At, string Local, string Event, string? Id, string Text);

public sealed record HistoryWindow(string User, Instant? Since, Instant? Until, string TimeZone, IReadOnlyList<HistoryLine> Lines, string Text);

/// <summary>A move not yet over at that instant: a migration, a suspend or resume, a frozen VM, a settling wait or a proposal.</summary>
public sealed record PendingMove(string Kind, string Id, string? From, string? To, string? Phase, double? Percent, Instant Since, Instant? DueAt, string Text);

/// <summary>The user's saga as it stood at an instant of domain time.</summary>
public sealed record StateAtInstant(
    string User,
    Instant At,
    string TimeZone,
    string? Vm,
    string? Seat,
    double SeatConfidence,
    string? VmHost,
    string? DisplayedOn,
    SessionMode Mode,
    bool Held,
    IReadOnlyList<PendingMove> Pending,
    LastDecision? LastDecision,
    long EventsApplied,
    Instant? LastEventAt,
    string Text);
