using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using static System.FormattableString;
using Presence.Domain.Words;

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

/// <summary>
/// Where the VM should be and how to get it there. <see cref="UserDecider.Consider"/> is the whole of it, in four
/// steps: the hard filter, the benefit points, the soft block, and the mode that follows from them.
/// </summary>
public static partial class UserDecider
{
    /// <summary>
    /// Bring the session to <paramref name="target"/>, or say why not. Hard rules filter where the VM may run;
    /// benefit points and soft rules (cooldown, quiet hours, hold) choose between running it there and showing it
    /// there. Every outcome is an event: a move, a display, a proposal, or a suppressed move with its reason.
    /// </summary>
    private static void Consider(Context ctx, string target, IReadOnlyList<string> evidenceIds, Trigger trigger, string? rule = null)
    {
        if (trigger == Trigger.Seat)
        {
            // Either the seat waits its hold-down, or what the look ahead decided as a settled seat is the decision.
            SettleOrDecide(ctx, target, evidenceIds, rule);
            return;
        }

        var placing = new Placing(ctx, target, evidenceIds, trigger, rule);
        if (MovableFrom(placing) is not { } source)
        {
            return;
        }

        var hard = HardFilter(placing, source);
        var estimate = EstimateLiveMigration(
            ctx.MemoryMb, Bandwidth(ctx.Policy, ctx.House, source, target), ctx.State.SecondsPerGib, ctx.State.DirtyPagesRate);
        var (points, explained) = Benefit(ctx, target, estimate);
        var worth = hard is null && points > 0 && points >= ctx.Settings.MinimumBenefit;
        var soft = worth && !placing.Forced ? SoftBlock(ctx) : null;
        ChooseMode(placing, source, new Weighing(hard, estimate, points, explained, worth, soft));
    }

    /// <summary>One placement being considered: where to, on what evidence, and what started it.</summary>
    private sealed record Placing(Context Ctx, string Target, IReadOnlyList<string> EvidenceIds, Trigger Trigger, string? Rule)
    {
        /// <summary>A person asked or approved, or it must happen now: points and soft rules do not stop it.</summary>
        public bool Forced => Trigger is Trigger.Requested or Trigger.Urgent or Trigger.Approved;

        public string Why => UserDecider.Why(Ctx, Target, Trigger, Rule);

        public void Suppress(string rule, string reason, IReadOnlyList<RejectedAlternative>? rejected = null) =>
            Ctx.Emit(new MoveSuppressed(Ctx.User.Name, Ctx.NextDecisionId(), Ctx.User.Vm, Target, rule, reason, EvidenceIds,
                rejected ?? [], Ctx.Policy.Version, Ctx.Now));
    }

    /// <summary>What the steps found: the hard rule the target fails, the estimate and points, and the soft block.</summary>
    private sealed record Weighing(
        RejectedAlternative? Hard, Duration Estimate, double Points, string Explained, bool Worth, RejectedAlternative? Soft);

    /// <summary>
    /// Step 1a, the hard filter on the move as a whole: one move at a time, and only to a host the user may use. A
    /// frozen VM is woken rather than moved, and a VM no agent reports cannot be moved yet. Returns the host the VM
    /// runs on, or null when there is nothing more to weigh (an event says why, unless the VM already runs there).
    /// </summary>
    private static string? MovableFrom(Placing p)
    {
        var (ctx, state, user) = (p.Ctx, p.Ctx.State, p.Ctx.User);
        if (state.Migration is { } moving)
        {
            p.Suppress(Rules.OneMoveAtATime, $"{user.Vm} is already moving from {moving.Source} to {moving.Target} ({moving.Id}); one move at a time");
            return null;
        }

        if (state.Operation is { } operation)
        {
            p.Suppress(Rules.OneMoveAtATime, $"{user.Vm} is being {(operation.Kind == PendingOperation.Suspend ? "frozen on" : "woken on")} {operation.Host} ({operation.Id}); one move at a time");
            return null;
        }

        // A host the user may not use is a hard rule for showing the VM as much as for running it: no fallback.
        if (!user.AllowedHosts.Contains(p.Target))
        {
            p.Suppress(Rules.AllowedHosts,
                $"{p.Why}, which is not among {user.Name}'s allowed hosts, so {user.Vm} is neither moved nor shown there",
                [new RejectedAlternative(p.Target, Rules.AllowedHosts, $"{p.Target}: not among {user.Name}'s allowed hosts")]);
            return null;
        }

        if (state.Suspended is { } frozen)
        {
            ConsiderResume(ctx, p.Target, frozen, p.EvidenceIds, p.Trigger, p.Rule);
            return null;
        }

        if (state.VmHost is not { } source)
        {
            p.Suppress(Rules.VmLocationUnknown, $"no agent reports {user.Vm} running, so there is nothing to move yet");
            return null;
        }

        if (source == p.Target)
        {
            // Already there, so nothing to decide; but she sat down where it runs, and the screen she left stops
            // showing it, as when the session comes to her seat (Execute).
            if (p.Target == state.Seat && state.ShownOn is { } shown && shown != p.Target)
            {
                Detach(ctx, shown, $"{user.Name} sat down at {p.Target}, where {user.Vm} runs");
            }

            return null;
        }

        return source;
    }

    /// <summary>
    /// Step 1b, the hard filter on the hosts: the target must be able to take the VM (<see cref="CheckIncoming"/>)
    /// and the source's agent must be there to send it. Null when nothing forbids running it on the target.
    /// </summary>
    private static RejectedAlternative? HardFilter(Placing p, string source) =>
        CheckIncoming(p.Ctx, p.Target)
        ?? (p.Ctx.House.Host(source).AgentOnline
            ? null
            : new RejectedAlternative(source, Rules.SourceAgentOnline, $"{source}: agent is offline, so it cannot send {p.Ctx.User.Vm}"));

    /// <summary>
    /// Step 4: the mode follows from the other three. A request that is forced never gets the display elsewhere
    /// instead: it moves the VM when the hard rules allow, whatever the points, and is refused when they do not.
    /// Otherwise the VM moves when it is worth it and nothing says "not now"; in every other case the seat shows it,
    /// and the rejected alternatives say why it did not move.
    /// </summary>
    private static void ChooseMode(Placing p, string source, Weighing w)
    {
        var ctx = p.Ctx;
        if (w.Hard is { } hard && p.Forced)
        {
            // A person asked for this host, or it must be this host: showing it elsewhere is no answer.
            p.Suppress(hard.Rule, $"{p.Why}, but {hard.Reason}", [hard]);
            return;
        }

        if (w.Worth && w.Soft is null)
        {
            var chosen = p.Rule ?? (ctx.Vm is { LatencySensitive: true } ? Rules.LatencySensitive : Rules.FollowSeat);
            Gate(ctx, LiveMigration(p, source, chosen, w.Estimate, ctx.Settings.MinimumBenefit > 0 ? w.Explained : "", []), p.Trigger);
            return;
        }

        if (w.Soft is { } soft)
        {
            // The move is worth it but a rule says not now; say so, then show the VM on the seat meanwhile.
            p.Suppress(soft.Rule, $"{p.Why}; {soft.Reason}", [soft]);
        }

        var rejected = NotRunThere(p, w);
        if (p.Forced)
        {
            // Asked to move and it is not worth it by the points: a person's request outranks the points.
            Gate(ctx, LiveMigration(p, source, p.Rule ?? Rules.RequestMove, w.Estimate, "", rejected), p.Trigger);
            return;
        }

        ShowOnSeat(ctx, p.Target, source, p.Why, rejected, p.EvidenceIds, p.Trigger);
    }

    /// <summary>
    /// Why the VM is not run on the target, for the decision that shows it there instead: the hard rule (when running
    /// it there would have been worth anything), the soft block, or too few points.
    /// </summary>
    private static List<RejectedAlternative> NotRunThere(Placing p, Weighing w)
    {
        var (ctx, user, target) = (p.Ctx, p.Ctx.User, p.Target);
        var rejected = new List<RejectedAlternative>();
        if (w.Hard is { } hard)
        {
            if (w.Points > 0)
            {
                rejected.Add(hard);
            }
        }
        else if (w.Soft is { } soft)
        {
            rejected.Add(soft);
        }
        else if (w.Points > 0 && !w.Worth)
        {
            rejected.Add(new RejectedAlternative(target, Rules.MinimumBenefit,
                Invariant($"{target}: running {user.Vm} there is worth {w.Points:0.#} points{w.Explained}, less than the {ctx.Settings.MinimumBenefit:0.#} needed")));
        }

        if (rejected.Count == 0 && user.PreferredMode == PreferredMode.Local && !p.Forced)
        {
            // Points cancelled out (battery, slow move): the decision must still say why a local user only gets the display.
            rejected.Add(w.Hard ?? new RejectedAlternative(target, Rules.MinimumBenefit,
                Invariant($"{target}: running {user.Vm} there is worth {w.Points:0.#} points{w.Explained}, nothing gained")));
        }

        return rejected;
    }

    private static Move LiveMigration(Placing p, string source, string rule, Duration estimate, string points, List<RejectedAlternative> rejected) =>
        new(PlacementMode.LiveMigration, source, p.Target, rule,
            $"{p.Why}; {p.Ctx.User.Vm} ({Wording.Memory(p.Ctx.MemoryMb)}) moves from {source} to {p.Target}, about {Wording.Estimate(estimate)}{points}",
            estimate, rejected, p.EvidenceIds);

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

    /// <summary>
    /// Step 2, benefit points of running the VM on <paramref name="target"/> rather than showing it there: a user who
    /// prefers local (+2), a latency-sensitive VM (+3), a laptop target on battery (−1), a slow move (−1). Running it
    /// where one sits costs a migration; the points say when that is worth more than a display that takes seconds.
    /// </summary>
    private static (double Points, string Explained) Benefit(Context ctx, string target, Duration estimate)
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

    /// <summary>
    /// Step 3, soft rules that say "not now" to a move that is worth it: the user's hold, the cooldown against
    /// ping-pong, quiet hours. They never forbid the host, so the seat still shows the VM meanwhile.
    /// </summary>
    private static RejectedAlternative? SoftBlock(Context ctx)
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
                $"{ctx.User.Vm} moved at {Wording.ClockTime(last, ctx.Settings.TimeZone)}; against ping-pong the next move waits until {Wording.ClockTime(next, ctx.Settings.TimeZone)}");
        }

        if (ctx.Settings.QuietHours is { } quiet && quiet.Contains(ctx.LocalNow))
        {
            return new RejectedAlternative(target, Rules.QuietHours,
                Invariant($"it is {ctx.LocalNow:HH:mm}, within the house's quiet hours {quiet}, when VMs are not moved across the network"));
        }

        return null;
    }

    /// <summary>Hard rules for running the VM on a host; null when the host passes all of them.</summary>
    private static RejectedAlternative? CheckIncoming(Context ctx, string host)
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

        if (!facts.AgentOnline)
        {
            return new(host, Rules.AgentOnline, $"{host}: agent is offline");
        }

        if (facts.MemoryFreeMb < memoryMb)
        {
            return new(host, Rules.FreeMemory, $"{host}: {Wording.Memory(facts.MemoryFreeMb)} free, needs {Wording.Memory(memoryMb, roundUp: true)}");
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
}
