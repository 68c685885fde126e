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
    Instant At);

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
    Instant StartedAt);

public static class Phases
{
    public const string Preparing = "preparing";
    public const string Migrating = "migrating";
}
