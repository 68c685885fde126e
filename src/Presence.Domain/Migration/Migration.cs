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
    bool InhibitSleep = false);

/// <summary>The target is listening for the VM at <see cref="IncomingUri"/>.</summary>
public sealed record IncomingReady(string User, string MigrationId, string Target, string IncomingUri, Instant At);

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
    Instant At);

public sealed record MigrationProgressed(
    string User,
    string MigrationId,
    double? Percent,
    long? TransferredBytes,
    long? RemainingBytes,
    long? DirtyPagesRate,
    double? Mbps,
    Instant At);

/// <summary>The VM runs on the target now; the measured times feed later estimates.</summary>
public sealed record MigrationCompleted(
    string User,
    string MigrationId,
    string Vm,
    string Source,
    string Target,
    long? DowntimeMs,
    long? TotalTimeMs,
    Instant At);

/// <summary>
/// The move did not happen; the VM still runs on <see cref="StillOn"/>. <see cref="AbortCommandId"/> is set when
/// the target had been asked to wait for the VM and must now be told to stop waiting.
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
    Instant At);

/// <summary>The seat's agent was told to show the VM (thin-client mode).</summary>
public sealed record DisplayAttachRequested(
    string User,
    string DecisionId,
    string Vm,
    string Host,
    string DisplayUri,
    string CommandId,
    Instant At);

public sealed record DisplayAttached(string User, string Vm, string Host, Instant At);

public sealed record DisplayAttachFailed(string User, string Vm, string Host, string Reason, Instant At);

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
    int MemoryMb = 0);

public static class Phases
{
    public const string Preparing = "preparing";
    public const string Migrating = "migrating";
}

/// <summary>The VM's host was told to freeze it into a state file on shared storage.</summary>
public sealed record SuspendRequested(
    string User, string OperationId, string DecisionId, string Vm, string Host, string File, string? ResumeOn, string CommandId, Instant At);

/// <summary>The VM is frozen in <see cref="File"/>; it runs nowhere until resumed.</summary>
public sealed record VmSuspended(string User, string OperationId, string Vm, string Host, string File, string? ResumeOn, Instant At);

/// <summary>Freezing failed; the VM still runs on <see cref="Host"/>.</summary>
public sealed record SuspendFailed(string User, string OperationId, string Vm, string Host, string Reason, Instant At);

/// <summary>A host was told to start the VM from its state file.</summary>
public sealed record ResumeRequested(string User, string OperationId, string Vm, string Host, string File, string CommandId, Instant At);

public sealed record VmResumed(string User, string OperationId, string Vm, string Host, Instant At);

/// <summary>Resuming failed; the VM stays frozen in its state file, where another host can resume it.</summary>
public sealed record ResumeFailed(string User, string OperationId, string Vm, string Host, string Reason, Instant At);

/// <summary>A suspend or resume in flight.</summary>
public sealed record PendingOperation(string Id, string Kind, string Vm, string Host, string File, string CommandId, string? ResumeOn, Instant StartedAt)
{
    public const string Suspend = "suspend";
    public const string Resume = "resume";
}

/// <summary>A frozen VM: where its state is, where it was, and where it should wake up.</summary>
public sealed record SuspendedVm(string File, string From, string? ResumeOn, Instant At);
