using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using static System.FormattableString;

namespace Presence.Domain.Users;

/// <summary>What started a placement, which decides how patient and how obedient the decider is.</summary>
internal enum Trigger
{
    /// <summary>Evidence moved the seat: wait the hold-down, respect every soft rule.</summary>
    Seat,

    /// <summary>The hold-down ran out with the user still there, or she asked to `follow` again.</summary>
    Settled,

    /// <summary>A person asked (move, home, maintenance): hard rules only.</summary>
    Requested,

    /// <summary>Someone approved a proposal.</summary>
    Approved,

    /// <summary>It must happen now (the laptop is leaving): hard rules only, no waiting.</summary>
    Urgent,
}

/// <summary>A way to bring the session to a host, before the gates (automation level, hold-down) are applied.</summary>
internal sealed record Move(
    PlacementMode Mode,
    string? From,
    string To,
    string Rule,
    string Reason,
    Duration Estimate,
    IReadOnlyList<RejectedAlternative> Rejected,
    IReadOnlyList<string> EvidenceIds);

public static partial class UserDecider
{
    /// <summary>
    /// Bring the session to <paramref name="target"/>, or say why not. Hard rules filter where the VM may run;
    /// soft rules (benefit points, cooldown, quiet hours, hold) choose between running it there and showing it there.
    /// </summary>
    private static void Consider(Context ctx, string target, IReadOnlyList<string> evidenceIds, Trigger trigger, string? rule = null)
    {
        if (trigger == Trigger.Seat)
        {
            // Look first without recording: only an action that will happen waits its hold-down (the mode it would
            // take decides how long), and what a rule stops is recorded once, when the user has stayed, not twice.
            var scratch = ctx.Scratch();
            Consider(scratch, target, evidenceIds, Trigger.Settled, rule);
            var mode = scratch.Events.Select(e => e switch
            {
                PlacementDecided d => d.Mode,
                PlacementProposed p => p.Mode,
                _ => (PlacementMode?)null,
            }).LastOrDefault(m => m is not null);
            var hold = mode switch
            {
                PlacementMode.AttachDisplay => ctx.Settings.HoldDown.AttachDisplay,
                PlacementMode.LiveMigration => ctx.Settings.HoldDown.LiveMigration,
                null => Duration.Zero,
                _ => ctx.Settings.HoldDown.SuspendResume,
            };
            if (hold > Duration.Zero)
            {
                var settleId = "w-" + ctx.Ids.Derive("settle").ToString("N")[..12];
                ctx.Emit(new SettlingStarted(ctx.User.Name, settleId, target, mode!.Value, hold, ctx.Now + hold, evidenceIds, ctx.Now));
                return;
            }

            trigger = Trigger.Settled;
        }

        var state = ctx.State;
        var user = ctx.User;
        var forced = trigger is Trigger.Requested or Trigger.Urgent or Trigger.Approved;

        void Suppress(string why, string reason, IReadOnlyList<RejectedAlternative>? rejected = null) =>
            ctx.Emit(new MoveSuppressed(user.Name, ctx.NextDecisionId(), user.Vm, target, why, reason, evidenceIds, rejected ?? [],
                ctx.Policy.Version, ctx.Now));

        if (state.Migration is { } moving)
        {
            Suppress(Rules.OneMoveAtATime, $"{user.Vm} is already moving from {moving.Source} to {moving.Target} ({moving.Id}); one move at a time");
            return;
        }

        if (state.Operation is { } operation)
        {
            Suppress(Rules.OneMoveAtATime, $"{user.Vm} is being {(operation.Kind == PendingOperation.Suspend ? "frozen on" : "woken on")} {operation.Host} ({operation.Id}); one move at a time");
            return;
        }

        // A host the user may not use is a hard rule for showing the VM as much as for running it: no fallback.
        if (!user.AllowedHosts.Contains(target))
        {
            Suppress(Rules.AllowedHosts,
                $"{Why(ctx, target, trigger, rule)}, which is not among {user.Name}'s allowed hosts, so {user.Vm} is neither moved nor shown there",
                [new RejectedAlternative(target, Rules.AllowedHosts, $"{target}: not among {user.Name}'s allowed hosts")]);
            return;
        }

        if (state.Suspended is { } frozen)
        {
            ConsiderResume(ctx, target, frozen, evidenceIds, trigger, rule);
            return;
        }

        if (state.VmHost is not { } source)
        {
            Suppress(Rules.VmLocationUnknown, $"no agent reports {user.Vm} running, so there is nothing to move yet");
            return;
        }

        if (source == target)
        {
            return; // the VM already runs there: nothing to decide
        }

        var why = Why(ctx, target, trigger, rule);
        var rejected = new List<RejectedAlternative>();
        var sourceFacts = ctx.House.Host(source);
        var targetFacts = ctx.House.Host(target);
        var hard = CheckIncoming(ctx, target);
        if (hard is null && !sourceFacts.AgentOnline)
        {
            hard = new RejectedAlternative(source, Rules.SourceAgentOnline, $"{source}: agent is offline, so it cannot send {user.Vm}");
        }

        var estimate = EstimateLiveMigration(ctx.MemoryMb, Bandwidth(ctx.Policy, ctx.House, source, target), state.SecondsPerGib, state.DirtyPagesRate);
        var (benefit, points) = Benefit(ctx, target, estimate, trigger, rule);

        if (hard is not null)
        {
            if (benefit > 0 || forced)
            {
                rejected.Add(hard);
            }

            if (forced)
            {
                // A person asked for this host, or it must be this host: showing it elsewhere is no answer.
                Suppress(hard.Rule, $"{why}, but {hard.Reason}", rejected);
                return;
            }
        }
        else if (benefit > 0 && benefit >= ctx.Settings.MinimumBenefit)
        {
            var blocked = forced ? null : SoftBlock(ctx, estimate);
            if (blocked is null)
            {
                var chosen = rule ?? (ctx.Vm is { LatencySensitive: true } ? Rules.LatencySensitive : Rules.FollowSeat);
                Gate(ctx, new Move(PlacementMode.LiveMigration, source, target, chosen,
                    $"{why}; {user.Vm} ({Gib(ctx.MemoryMb)}) moves from {source} to {target}, about {Seconds(estimate)}{(ctx.Settings.MinimumBenefit > 0 ? points : "")}",
                    estimate, rejected, evidenceIds), trigger);
                return;
            }

            // The move is worth it but a rule says not now; say so, then show the VM on the seat meanwhile.
            Suppress(blocked.Rule, $"{why}; {blocked.Reason}", [blocked]);
            rejected.Add(blocked);
        }
        else if (benefit > 0)
        {
            rejected.Add(new RejectedAlternative(target, Rules.MinimumBenefit,
                Invariant($"{target}: running {user.Vm} there is worth {benefit:0.#} points{points}, less than the {ctx.Settings.MinimumBenefit:0.#} needed")));
        }

        if (rejected.Count == 0 && user.PreferredMode == PreferredMode.Local && !forced)
        {
            // Points cancelled out (battery, slow move): the decision must still say why a local user only gets the display.
            rejected.Add(hard ?? new RejectedAlternative(target, Rules.MinimumBenefit,
                Invariant($"{target}: running {user.Vm} there is worth {benefit:0.#} points{points}, nothing gained")));
        }

        if (forced)
        {
            // Asked to move and it is not worth it by the points: a person's request outranks the points.
            Gate(ctx, new Move(PlacementMode.LiveMigration, source, target, rule ?? Rules.RequestMove,
                $"{why}; {user.Vm} ({Gib(ctx.MemoryMb)}) moves from {source} to {target}, about {Seconds(estimate)}",
                estimate, rejected, evidenceIds), trigger);
            return;
        }

        ShowOnSeat(ctx, target, source, why, rejected, evidenceIds, trigger);
    }

    /// <summary>Thin client: the VM stays where it runs and the seat shows it.</summary>
    private static void ShowOnSeat(
        Context ctx, string seat, string source, string why, List<RejectedAlternative> rejected, IReadOnlyList<string> evidenceIds, Trigger trigger)
    {
        var user = ctx.User;
        var displayUri = ctx.House.Host(source).Vms.FirstOrDefault(v => v.Name == user.Vm)?.DisplayUri ?? ctx.Vm?.DisplayUri;
        if (ctx.State.DisplayedOn == seat)
        {
            return;
        }

        void Suppress(string rule, string reason) =>
            ctx.Emit(new MoveSuppressed(user.Name, ctx.NextDecisionId(), user.Vm, seat, rule, reason, evidenceIds, rejected,
                ctx.Policy.Version, ctx.Now));

        if (displayUri is null)
        {
            Suppress(Rules.NoDisplay, $"{user.Vm} cannot move to {seat} and has no display address to show it there");
            return;
        }

        if (!ctx.House.Host(seat).AgentOnline)
        {
            if (rejected.All(r => r.Host != seat || r.Rule != Rules.AgentOnline))
            {
                rejected.Add(new RejectedAlternative(seat, Rules.AgentOnline, $"{seat}: agent is offline, so it cannot show {user.Vm}"));
            }

            Suppress(Rules.AgentOnline, $"{why}, but no agent there can show or run {user.Vm}");
            return;
        }

        var rule = rejected.Count == 0 ? Rules.PreferThinClient : Rules.ThinClientFallback;
        var soft = rejected.Count > 0 && rejected[^1] is { Rule: Rules.Cooldown or Rules.QuietHours or Rules.Hold or Rules.MinimumBenefit or Rules.ManualLevel };
        var because = rule == Rules.PreferThinClient ? $"{user.Name} prefers thin-client mode"
            : soft ? $"{user.Vm} does not move to {seat} now ({rejected[^1].Reason})"
            : $"{user.Vm} cannot run on {seat} ({rejected[^1].Reason})";
        Gate(ctx, new Move(PlacementMode.AttachDisplay, source, seat, rule,
            $"{why}; {because}, so {seat} shows it while it keeps running on {source}",
            Duration.FromSeconds(2), rejected, evidenceIds), trigger);
    }

    private static void ConsiderResume(Context ctx, string target, SuspendedVm frozen, IReadOnlyList<string> evidenceIds, Trigger trigger, string? rule)
    {
        var user = ctx.User;
        var why = Why(ctx, target, trigger, rule);
        var hard = CheckIncoming(ctx, target);
        if (hard is not null)
        {
            ctx.Emit(new MoveSuppressed(user.Name, ctx.NextDecisionId(), user.Vm, target, hard.Rule,
                $"{why}; {user.Vm} is frozen (from {frozen.From}) but cannot wake there: {hard.Reason}", evidenceIds, [hard],
                ctx.Policy.Version, ctx.Now));
            return;
        }

        Gate(ctx, new Move(PlacementMode.Resume, frozen.From, target, rule ?? Rules.ResumeAtSeat,
            $"{why}; {user.Vm} was frozen on {frozen.From} and wakes on {target}", Duration.FromSeconds(10), [], evidenceIds), trigger);
    }

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
                $"{host} goes into maintenance; {user.Vm} moves to {candidate}, about {Seconds(estimate)}", estimate, rejected, []),
                Trigger.Requested);
            return;
        }

        Gate(ctx, new Move(PlacementMode.SuspendResume, host, host, Rules.MaintenanceEvacuate,
            $"{host} goes into maintenance and no other host can take {user.Vm}, so it is frozen to shared storage",
            Duration.FromSeconds(10), rejected, []), Trigger.Requested);
    }

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

    /// <summary>
    /// Benefit points of running the VM on <paramref name="target"/> rather than showing it there: a user who
    /// prefers local (+2), a latency-sensitive VM (+3), a laptop target on battery (−1), a slow move (−1).
    /// </summary>
    private static (double Points, string Explained) Benefit(Context ctx, string target, Duration estimate, Trigger trigger, string? rule)
    {
        var parts = new List<string>();
        double points = 0;
        if (ctx.User.PreferredMode == PreferredMode.Local)
        {
            points += 2;
            parts.Add("+2 prefers local");
        }

        if (ctx.Vm is { LatencySensitive: true })
        {
            points += 3;
            parts.Add("+3 latency-sensitive");
        }

        if (ctx.Policy.Host(target) is { Role: HostRole.Laptop } && ctx.House.Host(target).OnBattery)
        {
            points -= 1;
            parts.Add("−1 laptop on battery");
        }

        if (ctx.Settings.SlowMigration > Duration.Zero && estimate > ctx.Settings.SlowMigration)
        {
            points -= 1;
            parts.Add("−1 slow move");
        }

        var explained = parts.Count > 0 ? $" ({string.Join(", ", parts)})" : "";
        return (points, explained);
    }

    /// <summary>Soft rules that say "not now" to a move that would otherwise happen.</summary>
    private static RejectedAlternative? SoftBlock(Context ctx, Duration estimate)
    {
        var state = ctx.State;
        var target = state.Seat ?? "the seat";
        if (state.Held)
        {
            return new RejectedAlternative(target, Rules.Hold, $"{ctx.User.Name} asked to hold the session where it is");
        }

        if (ctx.Settings.Cooldown > Duration.Zero && state.LastMoveAt is { } last && ctx.Now - last < ctx.Settings.Cooldown)
        {
            var next = last + ctx.Settings.Cooldown;
            return new RejectedAlternative(target, Rules.Cooldown,
                $"{ctx.User.Vm} moved at {Clock(ctx, last)}; against ping-pong the next move waits until {Clock(ctx, next)}");
        }

        if (ctx.Settings.QuietHours is { } quiet && quiet.Contains(ctx.LocalNow))
        {
            return new RejectedAlternative(target, Rules.QuietHours,
                Invariant($"it is {ctx.LocalNow:HH:mm}, within the house's quiet hours {quiet}, when VMs are not moved across the network"));
        }

        return null;
    }

    /// <summary>Hard rules for running the VM on a host; null when the host passes all of them.</summary>
    private static RejectedAlternative? CheckIncoming(Context ctx, string host, bool ignoreAgent = false)
    {
        var user = ctx.User;
        var spec = ctx.Policy.Host(host);
        var facts = ctx.House.Host(host);
        var memoryMb = ctx.MemoryMb;
        if (!user.AllowedHosts.Contains(host))
        {
            return new(host, Rules.AllowedHosts, $"{host}: not among {user.Name}'s allowed hosts");
        }

        if (spec is not { CanRunVms: true })
        {
            return new(host, Rules.CanRunVms, $"{host}: configured not to run VMs");
        }

        if (facts.InMaintenance)
        {
            return new(host, Rules.InMaintenance, $"{host}: in maintenance");
        }

        if (!facts.AgentOnline && !ignoreAgent)
        {
            return new(host, Rules.AgentOnline, $"{host}: agent is offline");
        }

        if (facts.MemoryFreeMb < memoryMb && !(ignoreAgent && facts.MemoryMb == 0))
        {
            return new(host, Rules.FreeMemory, $"{host}: {Gib(facts.MemoryFreeMb)} free, needs {Gib(memoryMb, roundUp: true)}");
        }

        if (spec.Role == HostRole.Laptop && facts.OnBattery && ctx.Settings.LaptopMinBatteryPercent > 0
            && (facts.BatteryPercent ?? 0) < ctx.Settings.LaptopMinBatteryPercent)
        {
            return new(host, Rules.LaptopBattery,
                $"{host}: on battery at {facts.BatteryPercent?.ToString() ?? "unknown"} %, below the {ctx.Settings.LaptopMinBatteryPercent} % an incoming VM needs");
        }

        return null;
    }

    private static string Why(Context ctx, string target, Trigger trigger, string? rule = null) => (trigger, rule) switch
    {
        (_, Rules.MaintenanceReturn) => $"{target} is out of maintenance, so {ctx.User.Vm} goes back where it ran before",
        (Trigger.Requested, _) => $"{ctx.User.Name} asked for {ctx.User.Vm} on {target}",
        (Trigger.Approved, _) => $"approved: {ctx.User.Vm} to {target}",
        (Trigger.Urgent, _) => $"{target} is leaving the house with {ctx.User.Name}",
        _ => $"{ctx.User.Name} sat down at {target}",
    };

    /// <summary>The link rate an agent measured wins over the configured one; 1 Gbit/s when neither is known.</summary>
    private static int Bandwidth(HousePolicy policy, HouseSnapshot house, string source, string target) =>
        policy.Migration.BandwidthFor(
            house.Host(source).LinkMbps ?? policy.Host(source)?.LinkMbps ?? 1000,
            house.Host(target).LinkMbps ?? policy.Host(target)?.LinkMbps ?? 1000);

    /// <summary>Memory over bandwidth plus a fixed cost for setting up and switching over.</summary>
    public static Duration EstimateLiveMigration(int memoryMb, int bandwidthMbps) =>
        Duration.FromSeconds(2) + Duration.FromSeconds(memoryMb * 8.0 / Math.Max(1, bandwidthMbps));

    /// <summary>
    /// Past moves of this VM, when there are any, say more than the link rate does. Without them, pages the VM
    /// dirties (4 KiB each) must be sent again, so they eat into the bandwidth — down to a tenth of it at most.
    /// </summary>
    public static Duration EstimateLiveMigration(int memoryMb, int bandwidthMbps, double? measuredSecondsPerGib, long? dirtyPagesRate = null)
    {
        if (measuredSecondsPerGib is { } measured)
        {
            return Duration.FromSeconds(measured * memoryMb / 1024.0);
        }

        var dirtyMbps = (dirtyPagesRate ?? 0) * 4096 * 8 / 1_000_000.0;
        var effective = Math.Max(bandwidthMbps / 10.0, bandwidthMbps - dirtyMbps);
        return Duration.FromSeconds(2) + Duration.FromSeconds(memoryMb * 8.0 / Math.Max(1, effective));
    }

    // Reasons are recorded and replayed, so their numbers are written the same whatever the server's culture.

    /// <summary>
    /// Memory in words, to a tenth of a GiB: rounded down, so free memory never reads as more than it is, or up for
    /// a need, so "7.9 GiB free, needs 8 GiB" can never read as "8 GiB free, needs 8 GiB".
    /// </summary>
    private static string Gib(int mb, bool roundUp = false)
    {
        if (mb < 1024)
        {
            return Invariant($"{mb} MiB");
        }

        var tenths = roundUp ? (mb * 10L + 1023) / 1024 : mb * 10L / 1024;
        return Invariant($"{tenths / 10.0:0.#} GiB");
    }

    private static string Seconds(Duration d) =>
        d.TotalSeconds < 90 ? Invariant($"{d.TotalSeconds:0} s") : Invariant($"{d.TotalMinutes:0.#} min");
}
