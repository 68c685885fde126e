using NodaTime;

namespace Presence.Domain.Placement;

public enum PlacementMode
{
    /// <summary>Show the VM where it runs on the seat's screen: seconds.</summary>
    AttachDisplay,

    /// <summary>Move the running VM to the seat: roughly memory over bandwidth.</summary>
    LiveMigration,
}

/// <summary>A host that was considered and turned down, with the rule that turned it down and why, in words.</summary>
public sealed record RejectedAlternative(string Host, string Rule, string Reason);

/// <summary>Where a user's VM should be and how to get it there, with everything needed to explain it later.</summary>
public sealed record PlacementDecided(
    string User,
    string DecisionId,
    string Vm,
    string? From,
    string To,
    PlacementMode Mode,
    string Rule,
    string Reason,
    IReadOnlyList<string> EvidenceIds,
    IReadOnlyList<RejectedAlternative> Rejected,
    Duration EstimatedDuration,
    string PolicyVersion,
    Instant At);

/// <summary>A move that would have followed from the evidence but a rule stopped; people ask about these later.</summary>
public sealed record MoveSuppressed(
    string User,
    string DecisionId,
    string Vm,
    string? Wanted,
    string Rule,
    string Reason,
    IReadOnlyList<string> EvidenceIds,
    IReadOnlyList<RejectedAlternative> Rejected,
    string PolicyVersion,
    Instant At);

/// <summary>Stable rule ids: they appear in events, the state topic and the README, so never rename one.</summary>
public static class Rules
{
    public const string FollowSeat = "follow_seat";
    public const string PreferThinClient = "prefer_thin_client";
    public const string ThinClientFallback = "thin_client_fallback";
    public const string AllowedHosts = "allowed_hosts";
    public const string CanRunVms = "can_run_vms";
    public const string AgentOnline = "agent_online";
    public const string FreeMemory = "free_memory";
    public const string SourceAgentOnline = "source_agent_online";
    public const string OneMoveAtATime = "one_move_at_a_time";
    public const string VmLocationUnknown = "vm_location_unknown";
    public const string NoDisplay = "no_display";
}
