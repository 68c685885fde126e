using Presence.Domain.Migration;
using Presence.Domain.Placement;

namespace Presence.Domain.Users;

/// <summary>
/// A host changed: its agent went away or came back, or it went into or out of maintenance. A move in flight is
/// compensated first. The rule under every failure: the VM runs on exactly one host, and after a failed move it
/// runs where it was (or, when the source's agent vanished mid-migration, where it was last known to run, until an
/// inventory says otherwise; it is never claimed for the target).
/// </summary>
public static partial class UserDecider
{
    private static void OnHostChange(Context ctx, string host)
    {
        var state = ctx.State;
        var facts = ctx.House.Host(host);
        if (!facts.AgentOnline ? AgentLost(ctx, host) : Resend(ctx, host))
        {
            return;
        }

        if (state.Busy)
        {
            return;
        }

        if (facts.InMaintenance && state.VmHost == host)
        {
            Evacuate(ctx, host);
        }
        else if (!facts.InMaintenance && state.EvacuatedFrom == host && state.VmHost is not null && state.VmHost != host)
        {
            Consider(ctx, host, [], Trigger.Requested, Rules.MaintenanceReturn);
        }
    }

    /// <summary>
    /// A host's agent went offline (its last will) while a move needed it. The move fails at once, compensated on
    /// the side that can still hear us:
    /// <list type="bullet">
    /// <item>the target, in either phase: the source keeps the VM; it is told to stop sending (when it was), the
    /// target to stop waiting (it will hear it when it comes back).</item>
    /// <item>the source, while preparing: nothing was sent; the target stops waiting, the VM stays on the source.</item>
    /// <item>the source, while migrating: the VM may or may not have arrived. Nothing is aborted (that could kill the
    /// only copy on the target); the VM is recorded as still on the source, marked uncertain, until an inventory
    /// shows where it runs.</item>
    /// </list>
    /// </summary>
    private static bool AgentLost(Context ctx, string host)
    {
        var state = ctx.State;
        if (state.Migration is { } m && (host == m.Target || host == m.Source))
        {
            var during = m.Phase == Phases.Preparing ? $"while {m.Target} prepared to receive {m.Vm}" : "during migration";
            if (host == m.Target)
            {
                var (cancel, of) = m.Phase == Phases.Migrating ? (ctx.Ids.Command("cancel"), m.MigrateCommandId) : (null, null);
                ctx.Emit(new MigrationFailed(
                    state.Id, m.Id, m.Vm, m.Phase, $"{host}'s agent went offline {during}; {m.Vm} stays on {m.Source}",
                    m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now, cancel, of));
            }
            else if (m.Phase == Phases.Preparing)
            {
                ctx.Emit(new MigrationFailed(
                    state.Id, m.Id, m.Vm, m.Phase, $"{host}'s agent went offline {during}; {m.Vm} was not sent and stays on {m.Source}",
                    m.Source, m.Target, ctx.Ids.Command("abort"), ctx.Now));
            }
            else
            {
                ctx.Emit(new MigrationFailed(
                    state.Id, m.Id, m.Vm, m.Phase,
                    $"{host}'s agent went offline during migration; whether {m.Vm} reached {m.Target} is uncertain until an agent reports it",
                    m.Source, m.Target, null, ctx.Now, WhereaboutsUncertain: true));
            }

            return true;
        }

        if (state.Operation is { } op && op.Host == host)
        {
            if (op.Kind == PendingOperation.Suspend)
            {
                ctx.Emit(new SuspendFailed(
                    state.Id, op.Id, op.Vm, op.Host, $"{host}'s agent went offline while freezing {op.Vm}", ctx.Now,
                    ctx.Ids.Command("cancel"), op.CommandId));
            }
            else
            {
                ctx.Emit(new ResumeFailed(
                    state.Id, op.Id, op.Vm, op.Host, $"{host}'s agent went offline while waking {op.Vm}", ctx.Now,
                    ctx.Ids.Command("cancel"), op.CommandId));
            }

            return true;
        }

        if (state.PendingDisplay is { } display && display.Host == host)
        {
            ctx.Emit(new DisplayAttachFailed(state.Id, ctx.User.Vm, host, $"{host}'s agent went offline before it showed {ctx.User.Vm}", ctx.Now));
            return true;
        }

        return false;
    }

    /// <summary>
    /// A host's agent announced itself online while a command of the pending phase was its to answer: send that
    /// command again with the same id. The agent may have missed it, or answered while we could not hear; either
    /// way it answers a known id with the recorded outcome and never runs it twice.
    /// </summary>
    private static bool Resend(Context ctx, string host)
    {
        var state = ctx.State;
        var (move, phase, command) = state switch
        {
            { Migration: { Sent: { } sent } m } when sent.Host == host => (m.Id, m.Phase, sent),
            { Operation: { } op } when op.Host == host => (op.Id, op.Kind == PendingOperation.Suspend ? Phases.Suspending : Phases.Resuming,
                op.Kind == PendingOperation.Suspend
                    ? new CommandToAgent(op.Host, op.CommandId, CommandKind.Suspend, op.Vm, To: op.File)
                    : new CommandToAgent(op.Host, op.CommandId, CommandKind.Resume, op.Vm, From: op.File)),
            _ => (null, null, null),
        };

        if (move is null || phase is null || command is null)
        {
            return false;
        }

        ctx.Emit(new CommandResent(state.Id, move, phase, command, $"{host}'s agent came online while {phase} waited for it", ctx.Now));
        return true;
    }
}
