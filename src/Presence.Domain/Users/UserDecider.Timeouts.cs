using NodaTime;
using Presence.Domain.Migration;
using Presence.Domain.Words;

namespace Presence.Domain.Users;

/// <summary>
/// What keeps a move from hanging: a timeout for every phase, and the compensation when one runs out. As for every
/// failure (see also HostChanges), the VM runs on exactly one host, and after a failed move it runs where it was.
/// </summary>
public static partial class UserDecider
{
    /// <summary>How many estimates a live migration may take before it counts as stuck.</summary>
    public const int MigrationTimeoutEstimates = 3;

    /// <summary>The timeout a phase gets when it starts; null when the policy gives that phase none.</summary>
    private static PhaseTimeoutScheduled? TimeoutFor(Context ctx, IUserEvent e)
    {
        var settings = ctx.Settings;
        var (move, phase, window) = e switch
        {
            IncomingRequested r => (r.MigrationId, Phases.Preparing, settings.PrepareTimeout),
            MigrationRequested r when settings.MigrationTimeout > Duration.Zero => (r.MigrationId, Phases.Migrating,
                settings.MigrationTimeout + MigrationTimeoutEstimates * EstimateLiveMigration(
                    ctx.State.Migration?.MemoryMb ?? ctx.MemoryMb, r.MaxBandwidthMbps, ctx.State.SecondsPerGib, ctx.State.DirtyPagesRate)),
            SuspendRequested s => (s.OperationId, Phases.Suspending, settings.SuspendTimeout),
            ResumeRequested r => (r.OperationId, Phases.Resuming, settings.ResumeTimeout),
            DisplayAttachRequested d => (d.CommandId, Phases.Displaying, settings.DisplayTimeout),
            _ => (null, null, Duration.Zero),
        };

        if (move is null || phase is null || window <= Duration.Zero)
        {
            return null;
        }

        // Whole seconds: the window is written into reasons, and a due time to the tick says nothing more.
        window = Duration.FromSeconds(Math.Ceiling(window.TotalSeconds));
        return new PhaseTimeoutScheduled(ctx.State.Id, move, phase, window, ctx.Now + window, ctx.Now);
    }

    /// <summary>A phase's time ran out. Only if that phase of that move is still pending does anything happen.</summary>
    private static void OnTimeout(Context ctx, string moveId, string phase)
    {
        var state = ctx.State;
        var window = state.Timeout is { } t && t.MoveId == moveId && t.Phase == phase ? Wording.Estimate(t.Window) : "its time";
        if (state.Migration is { } m && m.Id == moveId && m.Phase == phase)
        {
            if (phase == Phases.Preparing)
            {
                ctx.Emit(new MigrationFailed(
                    state.Id, m.Id, m.Vm, Phases.Preparing, $"{m.Target} did not answer prepare_incoming within {window}",
                    m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now,
                    CancelPrepareCommandId: ctx.Ids.Command("cancel-prepare"), CancelPrepareOf: m.PrepareCommandId));
            }
            else
            {
                ctx.Emit(new MigrationFailed(
                    state.Id, m.Id, m.Vm, Phases.Migrating, $"{m.Source} did not finish sending {m.Vm} to {m.Target} within {window}",
                    m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now, ctx.Ids.Command("cancel"), m.MigrateCommandId));
            }
        }
        else if (state.Operation is { Kind: PendingOperation.Suspend } suspend && suspend.Id == moveId && phase == Phases.Suspending)
        {
            ctx.Emit(new SuspendFailed(
                state.Id, suspend.Id, suspend.Vm, suspend.Host, $"{suspend.Host} did not freeze {suspend.Vm} within {window}", ctx.Now,
                ctx.Ids.Command("cancel"), suspend.CommandId));
        }
        else if (state.Operation is { Kind: PendingOperation.Resume } resume && resume.Id == moveId && phase == Phases.Resuming)
        {
            ctx.Emit(new ResumeFailed(
                state.Id, resume.Id, resume.Vm, resume.Host, $"{resume.Host} did not wake {resume.Vm} from {resume.File} within {window}", ctx.Now,
                ctx.Ids.Command("cancel"), resume.CommandId));
        }
        else if (state.PendingDisplay is { } display && display.CommandId == moveId && phase == Phases.Displaying)
        {
            ctx.Emit(new DisplayAttachFailed(state.Id, ctx.User.Vm, display.Host, $"{display.Host} did not show {ctx.User.Vm} within {window}", ctx.Now));
        }
    }
}
