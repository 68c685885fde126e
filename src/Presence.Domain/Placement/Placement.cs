using Presence.Domain.House;
using Presence.Domain.Users;
using NodaTime;

namespace Presence.Domain.Placement;

public enum PlacementMode
{
    /// <summary>Show the VM where it runs on the seat's screen: seconds.</summary>
    AttachDisplay,

    /// <summary>Move the running VM to the seat: roughly memory over bandwidth.</summary>
    LiveMigration,

    /// <summary>Freeze the VM to shared storage and wake it on the target once that is up.</summary>
    SuspendResume,

    /// <summary>Wake a frozen VM on the target.</summary>
    Resume,
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
    Instant At) : IUserEvent;

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
    Instant At) : IUserEvent;

/// <summary>A decision that waits for a person (automation level `recommend`): nothing is sent until approved.</summary>
public sealed record PlacementProposed(
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
    Instant At) : IUserEvent;

/// <summary>Someone answered a proposal with `approve` or `decline`.</summary>
public sealed record ProposalAnswered(string User, string DecisionId, bool Approved, string EvidenceId, Instant At) : IUserEvent;

/// <summary>
/// The evidence points at a new seat, but acting costs enough that it must hold for <see cref="HoldDown"/> first;
/// at <see cref="DueAt"/> the saga looks again and acts only if the user is still there.
/// </summary>
public sealed record SettlingStarted(
    string User, string SettleId, string Seat, PlacementMode Mode, Duration HoldDown, Instant DueAt,
    IReadOnlyList<string> EvidenceIds, Instant At) : IUserEvent;

/// <summary>A settling wait ran out but the evidence had moved on; nothing was done, and here is why.</summary>
public sealed record SettlingLapsed(string User, string SettleId, string Reason, Instant At) : IUserEvent;

/// <summary>`hold` / `release` / `follow`: whether the session stays put whatever the evidence says.</summary>
public sealed record HoldChanged(string User, bool Held, string EvidenceId, Instant At) : IUserEvent;

/// <summary>
/// `automation`: someone set how far Presence may act for this user (manual, recommend, automatic) while it runs.
/// It holds until set again or until the house file's level for the user is edited: <see cref="HouseFileLevel"/> is
/// what the file said when it was set, so the later of the two changes wins (UserDecider.AutomationOf).
/// </summary>
public sealed record AutomationLevelChanged(
    string User, AutomationLevel Level, AutomationLevel Was, AutomationLevel HouseFileLevel, string EvidenceId, Instant At) : IUserEvent;

/// <summary>A request that could not be carried out, with the reason (e.g. approving a decision that is not waiting).</summary>
public sealed record RequestRefused(string User, string EvidenceId, string Reason, Instant At) : IUserEvent;

/// <summary>The laptop the user works on is about to leave the house.</summary>
public sealed record LeavingDetected(string User, string Host, string Reason, IReadOnlyList<string> EvidenceIds, Instant At) : IUserEvent;

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
    public const string LatencySensitive = "latency_sensitive_local";
    public const string MinimumBenefit = "minimum_benefit";
    public const string Cooldown = "cooldown";
    public const string QuietHours = "quiet_hours";
    public const string Hold = "hold";
    public const string ManualLevel = "manual_level";
    public const string LaptopBattery = "laptop_battery";
    public const string InMaintenance = "host_in_maintenance";
    public const string RequestMove = "request_move";
    public const string RequestHome = "request_home";
    public const string LeavingWithLaptop = "leaving_with_laptop";
    public const string MaintenanceEvacuate = "maintenance_evacuate";
    public const string MaintenanceReturn = "maintenance_return";
    public const string ResumeAtSeat = "resume_at_seat";
}
