using NodaTime;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Words;

namespace Presence.Domain.Users;

/// <summary>
/// A host going into maintenance sends its VMs elsewhere, or freezes them when their owner is away; a frozen VM
/// wakes where it is wanted once that host can take it.
/// </summary>
public static partial class UserDecider
{
    /// <summary>Maintenance: take the VM off the host, to the seat, home, or any allowed host; failing all, freeze it.</summary>
    private static void Evacuate(Context ctx, string host)
    {
        var user = ctx.User;
        if (ctx.State.Seat is null)
        {
            // Nobody is using it: freezing frees the memory at once, and it wakes wherever its owner sits down next.
            Gate(ctx, new Move(PlacementMode.SuspendResume, host, host, Rules.MaintenanceEvacuate,
                $"{host} goes into maintenance while {user.Name} is away, so {user.Vm} is frozen to shared storage and wakes where {user.Name} next sits down",
                Duration.FromSeconds(10), [], []), Trigger.Requested);
            return;
        }

        var candidates = new[] { ctx.State.Seat, user.HomeHost }.OfType<string>().Concat(user.AllowedHosts)
            .Where(h => h != host).Distinct().ToList();
        var rejected = new List<RejectedAlternative>();
        foreach (var candidate in candidates)
        {
            if (CheckIncoming(ctx, candidate) is { } no)
            {
                rejected.Add(no);
                continue;
            }

            var estimate = EstimateLiveMigration(ctx.MemoryMb, Bandwidth(ctx.Policy, ctx.House, host, candidate), ctx.State.SecondsPerGib, ctx.State.DirtyPagesRate);
            Gate(ctx, new Move(PlacementMode.LiveMigration, host, candidate, Rules.MaintenanceEvacuate,
                $"{host} goes into maintenance; {user.Vm} moves to {candidate}, about {Wording.Estimate(estimate)}", estimate, rejected, []),
                Trigger.Requested);
            return;
        }

        Gate(ctx, new Move(PlacementMode.SuspendResume, host, host, Rules.MaintenanceEvacuate,
            $"{host} goes into maintenance and no other host can take {user.Vm}, so it is frozen to shared storage",
            Duration.FromSeconds(10), rejected, []), Trigger.Requested);
    }

    /// <summary>
    /// Once a frozen VM's target can take it, wake it there; the decision was made when it was frozen, but the hard
    /// rules (agent online, not in maintenance, room enough) are the house's now.
    /// </summary>
    private static void ContinueResume(Context ctx)
    {
        var state = ctx.State;
        if (state.Busy || state.Suspended is not { ResumeOn: { } target } frozen || CheckIncoming(ctx, target) is not null)
        {
            return;
        }

        var operation = ctx.Ids.Short('o', "resume");
        ctx.Emit(new ResumeRequested(state.Id, operation, ctx.User.Vm, target, frozen.File, ctx.Ids.Command("resume"), ctx.Now));
    }
}
