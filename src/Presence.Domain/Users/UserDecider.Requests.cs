using Presence.Domain.House;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Domain.Users;

/// <summary>
/// What people ask for (hold, release, follow, move, home, approve, decline, automation), recorded as evidence: a request is
/// carried out over soft rules but never over hard ones, and one that cannot be carried out is refused in words.
/// </summary>
public static partial class UserDecider
{
    private static void OnRequest(Context ctx, Evidence request)
    {
        var state = ctx.State;
        switch (request.Detail(Request.Action))
        {
            case Request.Hold:
                if (!state.Held)
                {
                    ctx.Emit(new HoldChanged(state.Id, true, request.Id, ctx.Now));
                }

                break;
            case Request.Release:
                if (state.Held)
                {
                    ctx.Emit(new HoldChanged(state.Id, false, request.Id, ctx.Now));
                }

                break;
            case Request.Follow:
                if (state.Held)
                {
                    ctx.Emit(new HoldChanged(state.Id, false, request.Id, ctx.Now));
                }

                if (ctx.State.Seat is { } seat)
                {
                    // Back to the automatic mode: plan as for a settled seat (preference, soft rules, fallback to the
                    // display), not as a move a person forces, which would migrate a thin-client user's VM.
                    Consider(ctx, seat, [request.Id], Trigger.Settled);
                }

                break;
            case Request.Move when request.Detail(Request.Target) is { } target:
                Consider(ctx, target, [request.Id], Trigger.Requested, Rules.RequestMove);
                break;
            case Request.Home:
                Consider(ctx, ctx.User.HomeHost, [request.Id], Trigger.Requested, Rules.RequestHome);
                break;
            case Request.Approve or Request.Decline when request.Detail(Request.DecisionId) is { } decision:
                Answer(ctx, request, decision, approved: request.Detail(Request.Action) == Request.Approve);
                break;
            case Request.Automation when Level(request.Detail(Request.Level)) is { } level:
                // From the next decision on; a proposal already waiting still waits for its answer.
                if (level != ctx.Automation)
                {
                    ctx.Emit(new AutomationLevelChanged(state.Id, level, ctx.Automation, ctx.User.Automation, request.Id, ctx.Now));
                }

                break;
            default:
                ctx.Emit(new RequestRefused(state.Id, request.Id, $"request '{request.Detail(Request.Action)}' lacks what it needs", ctx.Now));
                break;
        }
    }

    /// <summary>The level a request names in the wire's words (manual, recommend, automatic); null for anything else.</summary>
    private static AutomationLevel? Level(string? word) =>
        System.Enum.GetValues<AutomationLevel>().Select(l => (AutomationLevel?)l)
            .FirstOrDefault(l => string.Equals(l.ToString(), word, StringComparison.OrdinalIgnoreCase));

    private static void Answer(Context ctx, Evidence request, string decisionId, bool approved)
    {
        if (ctx.State.Proposal is not { } proposal || proposal.DecisionId != decisionId)
        {
            var waiting = ctx.State.Proposal is { } p ? $"; {p.DecisionId} is the one waiting" : "; none is waiting";
            ctx.Emit(new RequestRefused(ctx.State.Id, request.Id, $"decision {decisionId} is not waiting for an answer{waiting}", ctx.Now));
            return;
        }

        ctx.Emit(new ProposalAnswered(ctx.State.Id, decisionId, approved, request.Id, ctx.Now));
        if (!approved)
        {
            return;
        }

        if (ctx.State.Busy)
        {
            ctx.Emit(new RequestRefused(ctx.State.Id, request.Id, $"{ctx.User.Vm} is already being moved; {decisionId} cannot start now", ctx.Now));
            return;
        }

        // The house may have changed while the proposal waited: plan again for the same target, now without a wait.
        Consider(ctx, proposal.To, [.. proposal.EvidenceIds, request.Id], Trigger.Approved, proposal.Rule);
    }
}
