using NodaTime;

namespace Presence.Domain.Migration;

public enum ReportState { Accepted, Ready, Progress, Completed, Failed, Cancelled }

/// <summary>An agent's answer to one of our commands, as the decider sees it.</summary>
public sealed record AgentReport(
    string Host,
    string CommandId,
    string Vm,
    ReportState State,
    Instant At,
    string? IncomingUri = null,
    long? TotalBytes = null,
    long? TransferredBytes = null,
    long? RemainingBytes = null,
    long? DirtyPagesRate = null,
    double? Mbps = null,
    long? DowntimeMs = null,
    long? TotalTimeMs = null,
    string? Error = null)
{
    public double? Percent => TotalBytes is > 0 && RemainingBytes is { } remaining
        ? Math.Clamp(100.0 * (TotalBytes.Value - remaining) / TotalBytes.Value, 0, 100)
        : TotalBytes is > 0 && TransferredBytes is { } sent ? Math.Clamp(100.0 * sent / TotalBytes.Value, 0, 100) : null;
}

public enum CommandKind { PrepareIncoming, Migrate, AbortIncoming, Cancel, Suspend, Resume, AttachDisplay, DetachDisplay }

/// <summary>A command for one host's agent. Derived from events, so it is sent only once they are stored.</summary>
public sealed record CommandToAgent(
    string Host,
    string CommandId,
    CommandKind Kind,
    string Vm,
    int? MemoryMb = null,
    string? TargetHost = null,
    string? TargetUri = null,
    int? MaxBandwidthMbps = null,
    int? DowntimeLimitMs = null,
    string? Of = null,
    string? DisplayUri = null,
    string? To = null,
    string? From = null,
    bool InhibitSleep = false);

public static class AgentCommands
{
    /// <summary>The commands an event obliges us to send. Pure, so a replay can show what would have been sent.</summary>
    public static IEnumerable<CommandToAgent> For(object @event) => @event switch
    {
        IncomingRequested r => [new(r.Target, r.CommandId, CommandKind.PrepareIncoming, r.Vm, MemoryMb: r.MemoryMb, InhibitSleep: r.InhibitSleep)],
        MigrationRequested m =>
        [
            new(m.Source, m.CommandId, CommandKind.Migrate, m.Vm, TargetHost: m.Target, TargetUri: m.TargetUri,
                MaxBandwidthMbps: m.MaxBandwidthMbps, DowntimeLimitMs: m.DowntimeLimitMs),
        ],
        MigrationFailed f => Compensation(f),
        SuspendFailed { CancelCommandId: { } cancel } f => [new(f.Host, cancel, CommandKind.Cancel, f.Vm, Of: f.CancelOf)],
        ResumeFailed { CancelCommandId: { } cancel } f => [new(f.Host, cancel, CommandKind.Cancel, f.Vm, Of: f.CancelOf)],
        CommandResent r => [r.Command],
        SuspendRequested s => [new(s.Host, s.CommandId, CommandKind.Suspend, s.Vm, To: s.File)],
        ResumeRequested r => [new(r.Host, r.CommandId, CommandKind.Resume, r.Vm, From: r.File)],
        DisplayAttachRequested d => [new(d.Host, d.CommandId, CommandKind.AttachDisplay, d.Vm, DisplayUri: d.DisplayUri)],
        DisplayDetachRequested d => [new(d.Host, d.CommandId, CommandKind.DetachDisplay, d.Vm)],
        _ => [],
    };

    /// <summary>A failed move undone: first the source stops sending, then the target drops the prepare and stops waiting.</summary>
    private static IEnumerable<CommandToAgent> Compensation(MigrationFailed f)
    {
        if (f.CancelCommandId is { } cancel)
        {
            yield return new(f.StillOn, cancel, CommandKind.Cancel, f.Vm, Of: f.CancelOf);
        }

        if (f.CancelPrepareCommandId is { } cancelPrepare)
        {
            yield return new(f.Target, cancelPrepare, CommandKind.Cancel, f.Vm, Of: f.CancelPrepareOf);
        }

        if (f.AbortCommandId is { } abort)
        {
            yield return new(f.Target, abort, CommandKind.AbortIncoming, f.Vm);
        }
    }
}
