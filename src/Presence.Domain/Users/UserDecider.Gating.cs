using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;

namespace Presence.Domain.Users;

/// <summary>
/// Between a plan and the agents: the user's automation level may only record it or ask first; otherwise the
/// decision is recorded with the commands that carry it out, each in the event that obliges it.
/// </summary>
public static partial class UserDecider
{
    /// <summary>Automation level and approval stand between a plan and the agents (the hold-down came before).</summary>
    private static void Gate(Context ctx, Move move, Trigger trigger)
    {
        var user = ctx.User;
        var isMove = move.Mode != PlacementMode.AttachDisplay;
        if (isMove && user.Automation == AutomationLevel.Manual)
        {
            ctx.Emit(new MoveSuppressed(user.Name, ctx.NextDecisionId(), user.Vm, move.To, Rules.ManualLevel,
                $"{user.Name}'s automation level is manual, so nothing moves; it would have been: {move.Reason}",
                move.EvidenceIds, move.Rejected, ctx.Policy.Version, ctx.Now));
            if (move.Mode == PlacementMode.LiveMigration && trigger is Trigger.Seat or Trigger.Settled && move.From is { } source)
            {
                // Showing the VM is no move: the seat still shows it, as when a soft rule says "not now".
                ShowOnSeat(ctx, move.To, source, Why(ctx, move.To, trigger),
                    [.. move.Rejected, new RejectedAlternative(move.To, Rules.ManualLevel, $"{user.Name}'s automation level is manual")],
                    move.EvidenceIds, trigger);
            }

            return;
        }

        if (isMove && user.Automation == AutomationLevel.Recommend && trigger == Trigger.Settled)
        {
            ctx.Emit(new PlacementProposed(user.Name, ctx.NextDecisionId(), user.Vm, move.From, move.To, move.Mode, move.Rule,
                move.Reason, move.EvidenceIds, move.Rejected, move.Estimate, ctx.Policy.Version, ctx.Now));
            return;
        }

        Execute(ctx, move);
    }

    private static void Execute(Context ctx, Move move)
    {
        var user = ctx.User;
        var decisionId = ctx.NextDecisionId();
        ctx.Emit(new PlacementDecided(user.Name, decisionId, user.Vm, move.From, move.To, move.Mode, move.Rule, move.Reason,
            move.EvidenceIds, move.Rejected, move.Estimate, ctx.Policy.Version, ctx.Now));

        // The session comes to the seat she holds now: the screen she left stops showing it first, so nobody who
        // sits down there later finds her desktop.
        if (move.To == ctx.State.Seat && ctx.State.ShownOn is { } shown && shown != move.To)
        {
            Detach(ctx, shown, $"{user.Name} sat down at {move.To}");
        }

        switch (move.Mode)
        {
            case PlacementMode.LiveMigration:
                var laptop = ctx.Policy.Host(move.To) is { Role: HostRole.Laptop };
                ctx.Emit(new IncomingRequested(user.Name, ctx.Ids.Migration(), decisionId, user.Vm, move.From!, move.To,
                    ctx.MemoryMb, ctx.Ids.Command("prepare"), ctx.Now, InhibitSleep: laptop));
                break;
            case PlacementMode.AttachDisplay:
                var displayUri = ctx.House.Host(move.From!).Vms.FirstOrDefault(v => v.Name == user.Vm)?.DisplayUri ?? ctx.Vm?.DisplayUri;
                ctx.Emit(new DisplayAttachRequested(user.Name, decisionId, user.Vm, move.To, displayUri!, ctx.Ids.Command("attach"), ctx.Now));
                break;
            case PlacementMode.SuspendResume:
                var operation = "o-" + ctx.Ids.Derive("suspend").ToString("N")[..12];
                var file = $"{ctx.Settings.SharedStorage.TrimEnd('/')}/{user.Vm}-{operation}.state";
                var resumeOn = move.To == move.From ? null : move.To;
                ctx.Emit(new SuspendRequested(user.Name, operation, decisionId, user.Vm, move.From!, file, resumeOn, ctx.Ids.Command("suspend"), ctx.Now));
                break;
            case PlacementMode.Resume:
                var frozen = ctx.State.Suspended!;
                var resume = "o-" + ctx.Ids.Derive("resume").ToString("N")[..12];
                ctx.Emit(new ResumeRequested(user.Name, resume, user.Vm, move.To, frozen.File, ctx.Ids.Command("resume"), ctx.Now));
                break;
        }
    }
}
