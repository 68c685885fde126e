using Presence.Domain.Users;
using NodaTime;

namespace Presence.Domain.Migration;

/// <summary>Phase 1 of a live migration: the target agent was asked to start an incoming VM.</summary>
public sealed record IncomingRequested(
    string User,
    string MigrationId,
    string DecisionId,
    string Vm,
    string Source,
    string Target,
    int MemoryMb,
    string CommandId,
    Instant At,
    bool InhibitSleep = false) : IUserEvent;

/// <summary>The target is listening for the VM at <see cref="IncomingUri"/>.</summary>
public sealed record IncomingReady(string User, string MigrationId, string Target, string IncomingUri, Instant At) : IUserEvent;

/// <summary>Phase 2: the source agent was told to send the VM to the waiting target.</summary>
public sealed record MigrationRequested(
    string User,
    string MigrationId,
    string Vm,
    string Source,
    string Target,
    string TargetUri,
    int MaxBandwidthMbps,
    int DowntimeLimitMs,
    string CommandId,
    Instant At) : IUserEvent;

public sealed record MigrationProgressed(
    string User,
    string MigrationId,
    double? Percent,
    long? TransferredBytes,
    long? RemainingBytes,
    long? DirtyPagesRate,
    double? Mbps,
    Instant At) : IUserEvent;

/// <summary>The VM runs on the target now; the measured times feed later estimates.</summary>
public sealed record MigrationCompleted(
    string User,
    string MigrationId,
    string Vm,
    string Source,
    string Target,
    long? DowntimeMs,
    long? TotalTimeMs,
    Instant At) : IUserEvent;

/// <summary>
/// The move did not happen; the VM still runs on <see cref="StillOn"/>. <see cref="AbortCommandId"/> is set when
/// the target had been asked to wait for the VM and must now be told to stop waiting; <see cref="CancelCommandId"/>
/// when the source may still be sending it and must stop (<c>cancel</c> of <see cref="CancelOf"/>).
/// <see cref="WhereaboutsUncertain"/>: the source's agent vanished mid-migration, so nobody knows yet whether the
/// VM arrived; <see cref="StillOn"/> is then the last host known to run it, until an agent's inventory says otherwise.
/// <see cref="CancelPrepareCommandId"/>: the target never answered <c>prepare_incoming</c>, perhaps never got it; a
/// <c>cancel</c> of it (<see cref="CancelPrepareOf"/>) makes the agent answer it, not run it, should it arrive late.
/// </summary>
public sealed record MigrationFailed(
    string User,
    string MigrationId,
    string Vm,
    string Phase,
    string Reason,
    string StillOn,
    string Target,
    string? AbortCommandId,
    Instant At,
    string? CancelCommandId = null,
    string? CancelOf = null,
    bool WhereaboutsUncertain = false,
    string? CancelPrepareCommandId = null,
    string? CancelPrepareOf = null) : IUserEvent;

/// <summary>
/// A phase of a move (migration, suspend/resume or display) started and must end by <see cref="DueAt"/>; the server
/// turns it into a durable delayed message, and the saga ignores it if the phase is over by then.
/// </summary>
public sealed record PhaseTimeoutScheduled(string User, string MoveId, string Phase, Duration Window, Instant DueAt, Instant At) : IUserEvent;

/// <summary>
/// A command of the pending phase was sent again, with the same command id, because its host's agent came (back)
/// online: an agent answers a command id it knows with the recorded outcome, so nothing runs twice.
/// </summary>
public sealed record CommandResent(string User, string MoveId, string Phase, CommandToAgent Command, string Reason, Instant At) : IUserEvent;

/// <summary>The seat's agent was told to show the VM (thin-client mode).</summary>
public sealed record DisplayAttachRequested(
    string User,
    string DecisionId,
    string Vm,
    string Host,
    string DisplayUri,
    string CommandId,
    Instant At) : IUserEvent
{
    /// <summary>Why, when it is not the decision's own display: the seat switching to the VM that landed on it.</summary>
    public string? Reason { get; init; }
}

public sealed record DisplayAttached(string User, string Vm, string Host, Instant At) : IUserEvent;

/// <summary>
/// The host's agent was told to stop showing the VM: its user left that screen (logout, or lock where the house says
/// so), sat down elsewhere, or someone else sat down there. Sent whether or not the attach it undoes was confirmed,
/// because an agent may still show what it was told to; detaching what is not shown is no error to an agent.
/// </summary>
public sealed record DisplayDetachRequested(string User, string Vm, string Host, string CommandId, string Reason, Instant At) : IUserEvent;

public sealed record DisplayAttachFailed(string User, string Vm, string Host, string Reason, Instant At) : IUserEvent;

/// <summary>Where a move stands, as the user's saga keeps it between agent reports.</summary>
public sealed record PendingMigration(
    string Id,
    string Vm,
    string Source,
    string Target,
    string Phase,
    string PrepareCommandId,
    string? MigrateCommandId,
    string? IncomingUri,
    double? Percent,
    Instant StartedAt,
    int MemoryMb = 0,
    CommandToAgent? Sent = null,
    Instant? ProgressAt = null);

public static class Phases
{
    public const string Preparing = "preparing";
    public const string Migrating = "migrating";
    public const string Suspending = "suspending";
    public const string Resuming = "resuming";
    public const string Displaying = "displaying";

    /// <summary>
    /// Whether a phase left unanswered holds the user up: a pending move, freeze or wake keeps the VM "moving" and no
    /// other move starts until it ends, so only its timeout ends it. A pending display holds nothing: the decider gates
    /// no decision on it, a new attach replaces it and its host going offline fails it; its timeout only records that
    /// the seat never answered.
    /// </summary>
    public static bool CanHang(string phase) => phase != Displaying;
}

/// <summary>The timeout the saga waits on: for which move and phase, and how long it was given.</summary>
public sealed record PendingTimeout(string MoveId, string Phase, Duration Window, Instant DueAt);

/// <summary>The VM's host was told to freeze it into a state file on shared storage.</summary>
public sealed record SuspendRequested(
    string User, string OperationId, string DecisionId, string Vm, string Host, string File, string? ResumeOn, string CommandId, Instant At) : IUserEvent;

/// <summary>The VM is frozen in <see cref="File"/>; it runs nowhere until resumed.</summary>
public sealed record VmSuspended(string User, string OperationId, string Vm, string Host, string File, string? ResumeOn, Instant At) : IUserEvent;

/// <summary>
/// Freezing failed; the VM still runs on <see cref="Host"/>. <see cref="CancelCommandId"/> is set when the host may
/// still be saving it and is told to stop (<c>cancel</c> of <see cref="CancelOf"/>).
/// </summary>
public sealed record SuspendFailed(
    string User, string OperationId, string Vm, string Host, string Reason, Instant At, string? CancelCommandId = null, string? CancelOf = null) : IUserEvent;

/// <summary>A host was told to start the VM from its state file.</summary>
public sealed record ResumeRequested(string User, string OperationId, string Vm, string Host, string File, string CommandId, Instant At) : IUserEvent;

public sealed record VmResumed(string User, string OperationId, string Vm, string Host, Instant At) : IUserEvent;

/// <summary>
/// Resuming failed; the VM stays frozen in its state file, where another host can resume it. <see cref="CancelCommandId"/>
/// is set when the host may still be starting it and is told not to (<c>cancel</c> of <see cref="CancelOf"/>).
/// </summary>
public sealed record ResumeFailed(
    string User, string OperationId, string Vm, string Host, string Reason, Instant At, string? CancelCommandId = null, string? CancelOf = null) : IUserEvent;

/// <summary>A suspend or resume in flight.</summary>
public sealed record PendingOperation(string Id, string Kind, string Vm, string Host, string File, string CommandId, string? ResumeOn, Instant StartedAt)
{
    public const string Suspend = "suspend";
    public const string Resume = "resume";
}

/// <summary>A frozen VM: where its state is, where it was, and where it should wake up.</summary>
public sealed record SuspendedVm(string File, string From, string? ResumeOn, Instant At);
