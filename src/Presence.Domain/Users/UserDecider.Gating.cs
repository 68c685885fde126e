using Presence.Domain.House;
using Presence.Domain.Migration;
using NodaTime;
using Presence.Domain.Placement;
using Presence.Domain.Words;

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
        if (isMove && ctx.Automation == AutomationLevel.Manual)
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

        if (isMove && ctx.Automation == AutomationLevel.Recommend && trigger == Trigger.Settled)
        {
            ctx.Emit(new PlacementProposed(user.Name, ctx.NextDecisionId(), user.Vm, move.From, move.To, move.Mode, move.Rule,
                move.Reason, move.EvidenceIds, move.Rejected, move.Estimate, ctx.Policy.Version, ctx.Now));
            return;
        }

        Execute(ctx, move);
    }

    /// <summary>
    /// The user's automation level now: the one set while Presence ran (AutomationLevelChanged), unless the house
    /// file's level for the user was edited since; then the file's, as the later change.
    /// </summary>
    public static AutomationLevel AutomationOf(UserSaga? saga, UserSpec user) =>
        saga?.Automation is { } set && set.HouseFileLevel == user.Automation ? set.Level : user.Automation;

    private static void Execute(Context ctx, Move move)
    {
        var user = ctx.User;
        var decisionId = ctx.NextDecisionId();

        // Show first, then move: a migration to the seat she sits at shows the VM there from where it runs now, so
        // she sees her desktop at once; the seat switches to the local display when it lands (SwitchToLocal).
        var showFirst = move.Mode == PlacementMode.LiveMigration && move.To == ctx.State.Seat && ctx.State.ShownOn != move.To
            && DisplayUriOn(ctx, move.From!) is not null && ctx.House.Host(move.To).AgentOnline;
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
                if (showFirst)
                {
                    ctx.Emit(new DisplayAttachRequested(user.Name, decisionId, user.Vm, move.To, DisplayUriOn(ctx, move.From!)!, ctx.Ids.Command("attach"), ctx.Now)
                    {
                        Reason = Wording.ShownFirst(move.From!, move.To, move.Estimate),
                    });
                }

                var laptop = ctx.Policy.Host(move.To) is { Role: HostRole.Laptop };
                ctx.Emit(new IncomingRequested(user.Name, ctx.Ids.Migration(), decisionId, user.Vm, move.From!, move.To,
                    ctx.MemoryMb, ctx.Ids.Command("prepare"), ctx.Now, InhibitSleep: laptop));
                break;
            case PlacementMode.AttachDisplay:
                ctx.Emit(new DisplayAttachRequested(user.Name, decisionId, user.Vm, move.To, DisplayUriOn(ctx, move.From!)!, ctx.Ids.Command("attach"), ctx.Now));
                break;
            case PlacementMode.SuspendResume:
                var operation = ctx.Ids.Short('o', "suspend");
                var file = $"{ctx.Settings.SharedStorage.TrimEnd('/')}/{user.Vm}-{operation}.state";
                var resumeOn = move.To == move.From ? null : move.To;
                ctx.Emit(new SuspendRequested(user.Name, operation, decisionId, user.Vm, move.From!, file, resumeOn, ctx.Ids.Command("suspend"), ctx.Now));
                break;
            case PlacementMode.Resume:
                var frozen = ctx.State.Suspended!;
                var resume = ctx.Ids.Short('o', "resume");
                ctx.Emit(new ResumeRequested(user.Name, resume, user.Vm, move.To, frozen.File, ctx.Ids.Command("resume"), ctx.Now));
                break;
        }
    }

    /// <summary>The address to show the VM at while it runs on <paramref name="host"/>: what that host reports, else the house file's.</summary>
    private static string? DisplayUriOn(Context ctx, string host) =>
        ctx.House.Host(host).Vms.FirstOrDefault(v => v.Name == ctx.User.Vm)?.DisplayUri ?? ctx.Vm?.DisplayUri;

    /// <summary>
    /// The first step of show first, then move: the seat shows the VM where it runs now, recorded as a decision of its
    /// own (the move follows when its hold-down ends). Nothing when the seat cannot show it: the move still comes.
    /// </summary>
    private static void ShowFirst(Context ctx, string seat, string source, Duration estimate, IReadOnlyList<string> evidenceIds, string reason)
    {
        if (ctx.State.ShownOn == seat || DisplayUriOn(ctx, source) is null || !ctx.House.Host(seat).AgentOnline)
        {
            return;
        }

        if (ctx.State.ShownOn is { } shown)
        {
            Detach(ctx, shown, $"{ctx.User.Name} sat down at {seat}");
        }

        Execute(ctx, new Move(PlacementMode.AttachDisplay, source, seat, Rules.ThinClientFallback, reason, Duration.FromSeconds(2), [], evidenceIds));
    }

    /// <summary>
    /// After a move to the seat that showed the VM from elsewhere: once the seat's agent reports the VM with a display
    /// address of its own, the seat is told to show that one (its agent swaps the viewer; the person does nothing).
    /// </summary>
    private static void SwitchToLocal(Context ctx)
    {
        var state = ctx.State;
        if (state.Busy || state.ShownOn is not { } seat || state.VmHost != seat || state.ShownFrom is not { } from || from == seat
            || ctx.House.Host(seat) is not { } here || !here.Runs(ctx.User.Vm)
            || ByName.Find(here.Vms, ctx.User.Vm, static v => v.Name)?.DisplayUri is not { } local)
        {
            return;
        }

        ctx.Emit(new DisplayAttachRequested(state.Id, state.CarryingOut ?? "", ctx.User.Vm, seat, local, ctx.Ids.Command("attach/local"), ctx.Now)
        {
            Reason = Wording.SwitchedToLocal(ctx.User.Vm, seat, from),
        });
    }
}
