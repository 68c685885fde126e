using NodaTime;
using Presence.Domain.Migration;

namespace Presence.Domain.Users;

public static partial class UserDecider
{
    /// <summary>
    /// Agents' answers carry a decision out, step by step. Answers for commands the saga is not waiting for (late,
    /// duplicated, from the wrong host) change nothing: the state decides whether an answer still matters.
    /// </summary>
    private static void OnAgentReport(Context ctx, AgentReport report)
    {
        var state = ctx.State;

        // Only a failure says why, and most answers are progress: the words are put together when one is told.
        string Error() => report.Error ?? report.State.ToString().ToLowerInvariant();

        if (state.PendingDisplay is { } display && report.CommandId == display.CommandId && report.Host == display.Host)
        {
            if (report.State == ReportState.Completed)
            {
                ctx.Emit(new DisplayAttached(state.Id, report.Vm, report.Host, report.At));
            }
            else if (report.State is ReportState.Failed or ReportState.Cancelled)
            {
                ctx.Emit(new DisplayAttachFailed(state.Id, report.Vm, report.Host, Error(), report.At));
            }

            return;
        }

        if (state.Operation is { } op && report.CommandId == op.CommandId && report.Host == op.Host)
        {
            switch (op.Kind, report.State)
            {
                case (PendingOperation.Suspend, ReportState.Completed):
                    ctx.Emit(new VmSuspended(state.Id, op.Id, op.Vm, op.Host, op.File, op.ResumeOn, report.At));
                    break;
                case (PendingOperation.Suspend, ReportState.Failed or ReportState.Cancelled):
                    ctx.Emit(new SuspendFailed(state.Id, op.Id, op.Vm, op.Host, $"{op.Host} could not freeze {op.Vm}: {Error()}", report.At));
                    break;
                case (PendingOperation.Resume, ReportState.Completed):
                    ctx.Emit(new VmResumed(state.Id, op.Id, op.Vm, op.Host, report.At));
                    break;
                case (PendingOperation.Resume, ReportState.Failed or ReportState.Cancelled):
                    ctx.Emit(new ResumeFailed(state.Id, op.Id, op.Vm, op.Host, $"{op.Host} could not wake {op.Vm} from {op.File}: {Error()}", report.At));
                    break;
            }

            return;
        }

        if (state.Migration is not { } m)
        {
            return;
        }

        if (report.CommandId == m.PrepareCommandId && report.Host == m.Target && m.Phase == Phases.Preparing)
        {
            switch (report.State)
            {
                case ReportState.Ready when report.IncomingUri is { } uri:
                    ctx.Emit(new IncomingReady(state.Id, m.Id, m.Target, uri, report.At));
                    ctx.Emit(new MigrationRequested(
                        state.Id, m.Id, m.Vm, m.Source, m.Target, uri, Bandwidth(ctx.Policy, ctx.House, m.Source, m.Target),
                        ctx.Policy.Migration.DowntimeLimitMs, ctx.Ids.Command("migrate"), ctx.Now));
                    break;
                case ReportState.Failed or ReportState.Cancelled:
                    ctx.Emit(new MigrationFailed(
                        state.Id, m.Id, m.Vm, Phases.Preparing, $"{m.Target} could not prepare to receive {m.Vm}: {Error()}",
                        m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now));
                    break;
            }

            return;
        }

        if (report.CommandId == m.MigrateCommandId && report.Host == m.Source && m.Phase == Phases.Migrating)
        {
            switch (report.State)
            {
                // Progress is recorded per whole percent, and no more often than ProgressInterval unless it gained five
                // points, so a chatty agent cannot flood the stream.
                case ReportState.Progress when report.Percent is { } percent && Math.Floor(percent) > Math.Floor(m.Percent ?? -1)
                                               && ProgressDue(ctx, m, percent, report.At):
                    ctx.Emit(new MigrationProgressed(
                        state.Id, m.Id, Math.Round(percent, 1), report.TransferredBytes, report.RemainingBytes,
                        report.DirtyPagesRate, report.Mbps, report.At));
                    break;
                case ReportState.Completed:
                    ctx.Emit(new MigrationCompleted(state.Id, m.Id, m.Vm, m.Source, m.Target, report.DowntimeMs, report.TotalTimeMs, report.At));
                    break;
                case ReportState.Failed or ReportState.Cancelled:
                    ctx.Emit(new MigrationFailed(
                        state.Id, m.Id, m.Vm, Phases.Migrating, $"{m.Source} could not send {m.Vm} to {m.Target}: {Error()}",
                        m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now));
                    break;
            }
        }
    }

    private static bool ProgressDue(Context ctx, PendingMigration m, double percent, Instant at) =>
        ctx.Settings.ProgressInterval <= Duration.Zero
        || m.ProgressAt is not { } last
        || at - last >= ctx.Settings.ProgressInterval
        || percent >= (m.Percent ?? 0) + 5;
}
