using NodaTime;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Words;

namespace Presence.Domain.Users;

/// <summary>
/// The hold-down: a new seat must hold for a time that scales with what acting costs before anything is done, so a
/// user passing by a computer does not drag her VM after her. The wait is a durable message that comes back as
/// <see cref="Settle"/>.
/// </summary>
public static partial class UserDecider
{
    /// <summary>
    /// Starts the wait when the seat must hold first, or else decides as a settled seat. It looks without recording
    /// first: only an action that will happen waits its hold-down (the mode it would take decides how long), and what
    /// a rule stops is recorded once, when the user has stayed, not twice. With no wait, the look ahead is exactly
    /// that decision (the same call on a copy of the same context), so it is taken as it is rather than made again:
    /// a login at a seat decided everything twice.
    /// </summary>
    private static void SettleOrDecide(Context ctx, string target, IReadOnlyList<string> evidenceIds, string? rule)
    {
        var scratch = ctx.Scratch();
        Consider(scratch, target, evidenceIds, Trigger.Settled, rule);
        var mode = scratch.Events.Select(e => e switch
        {
            PlacementDecided d => d.Mode,
            PlacementProposed p => p.Mode,
            _ => (PlacementMode?)null,
        }).LastOrDefault(m => m is not null);
        var strength = ctx.State.Seat == target ? EvidenceStrength.Of(ctx.State.SeatConfidence) : Strength.Weak;
        var hold = mode is { } planned ? EvidenceStrength.HoldDown(planned, strength, ctx.Settings.HoldDown) : Duration.Zero;
        if (hold <= Duration.Zero)
        {
            ctx.Adopt(scratch);
            return;
        }

        // Show first, then move: the hold-down guards the migration, not the first pixel. When the display would
        // follow this evidence at once, the seat shows the VM where it runs now while the move waits its turn.
        if (mode == PlacementMode.LiveMigration
            && EvidenceStrength.HoldDown(PlacementMode.AttachDisplay, strength, ctx.Settings.HoldDown) <= Duration.Zero
            && scratch.Events.Select(e => e switch
            {
                PlacementDecided d => (d.From, d.EstimatedDuration),
                PlacementProposed p => (p.From, p.EstimatedDuration),
                _ => ((string?)null, Duration.Zero),
            }).LastOrDefault(m => m.Item1 is not null) is ({ } source, var estimate))
        {
            ShowFirst(ctx, target, source, estimate, evidenceIds,
                $"{Why(ctx, target, Trigger.Seat, rule)}; {Wording.ShownFirst(source, target, estimate)} once {ctx.User.Name} has sat there for {Wording.Duration(hold)}");
        }

        var settleId = ctx.Ids.Short('w', "settle");
        ctx.Emit(new SettlingStarted(ctx.User.Name, settleId, target, mode!.Value, hold, ctx.Now + hold, evidenceIds, ctx.Now));
    }

    private static void OnSettle(Context ctx, string settleId)
    {
        if (ctx.State.Settling is not { } settling || settling.SettleId != settleId)
        {
            return; // a wait that was replaced or already answered: it no longer matters
        }

        if (ctx.State.Seat != settling.Seat)
        {
            var now = ctx.State.Seat is { } seat ? $"now at {seat}" : "now at no seat";
            ctx.Emit(new SettlingLapsed(ctx.State.Id, settleId, $"{ctx.State.Id} left {settling.Seat} before the hold-down ended ({now})", ctx.Now));
            return;
        }

        Consider(ctx, settling.Seat, settling.EvidenceIds, Trigger.Settled);
    }
}
