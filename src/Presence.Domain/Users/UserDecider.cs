using System.Globalization;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;

namespace Presence.Domain.Users;

/// <summary>
/// The heart of Presence: <see cref="Decide"/> turns one input into events, <see cref="Evolve"/> folds an event into
/// the saga. No clock, no I/O: time and the house's settings are arguments, so the same stream always replays to
/// the same decisions. The parts live beside this file: seating (where is the user), planning (where should the VM
/// be and how to get it there), gating (may we act now), and the sagas that carry a decision out.
/// </summary>
public static partial class UserDecider
{
    /// <summary>Every event a user's stream can hold; stores use it to tell user streams from host streams.</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(UserEnrolled), typeof(HouseObserved), typeof(SignalRecorded), typeof(SeatChanged),
        typeof(PlacementDecided), typeof(MoveSuppressed), typeof(IncomingRequested), typeof(IncomingReady),
        typeof(MigrationRequested), typeof(MigrationProgressed), typeof(MigrationCompleted), typeof(MigrationFailed),
        typeof(DisplayAttachRequested), typeof(DisplayAttached), typeof(DisplayAttachFailed),
        typeof(PlacementProposed), typeof(ProposalAnswered), typeof(SettlingStarted), typeof(SettlingLapsed),
        typeof(HoldChanged), typeof(RequestRefused), typeof(LeavingDetected),
        typeof(SuspendRequested), typeof(VmSuspended), typeof(SuspendFailed),
        typeof(ResumeRequested), typeof(VmResumed), typeof(ResumeFailed),
        typeof(PhaseTimeoutScheduled), typeof(CommandResent),
        typeof(AgentReported), typeof(SettlingWaitRanOut), typeof(PhaseTimeoutRanOut), typeof(HostChangeNoticed),
    ];

    /// <summary>The events that record what the decider was asked (not what it decided): replay feeds them back in.</summary>
    public static IReadOnlyList<Type> InputTypes { get; } =
        [typeof(SignalRecorded), typeof(AgentReported), typeof(SettlingWaitRanOut), typeof(PhaseTimeoutRanOut), typeof(HostChangeNoticed)];

    public static IReadOnlyList<object> Decide(UserSaga? state, UserInput input, Instant now, HousePolicy policy)
    {
        var user = policy.User(input.User)
            ?? throw new ArgumentException($"user '{input.User}' is not in the house", nameof(input));
        var ctx = new Context(state ?? UserSaga.Start(user.Name, user.Vm), user, policy, input.House.Normalised(), new Ids(input.Seed), now);

        if (state is null || state.Vm != user.Vm)
        {
            ctx.Emit(new UserEnrolled(user.Name, user.Vm, user.HomeHost, policy.Version, now));
        }

        if (!ctx.House.SameAs(ctx.State.House))
        {
            ctx.Emit(new HouseObserved(user.Name, ctx.House.Hosts, now));
        }

        // Non-evidence inputs are recorded before the decider acts on them, and kept only if something changed (below).
        var record = Record(input, now);
        if (record is not null)
        {
            ctx.Emit(record);
        }

        switch (input)
        {
            case ObserveEvidence { Evidence: { Kind: EvidenceKind.Request } request }:
                ctx.Emit(new SignalRecorded(user.Name, request, request.At, now, input.Seed));
                OnRequest(ctx, request);
                break;
            case ObserveEvidence { Evidence: var evidence }:
                var late = ctx.State.NewestEvidence.TryGetValue(evidence.Host, out var newest) && evidence.At < newest;
                ctx.Emit(new SignalRecorded(user.Name, evidence, evidence.At, now, input.Seed));

                // Evidence older than what the same computer already told us arrived late (a queued emitter): it
                // is kept in the history but cannot override newer evidence. Compared per computer, because two
                // computers' clocks may differ by a few seconds.
                if (!late)
                {
                    OnEvidence(ctx, evidence);
                }

                break;
            case ObserveAgentReport { Report: var report }:
                OnAgentReport(ctx, report);
                break;
            case Settle settle:
                OnSettle(ctx, settle.SettleId);
                break;
            case ObserveHostChange change:
                OnHostChange(ctx, change.Host);
                break;
            case CheckTimeout timeout:
                OnTimeout(ctx, timeout.MoveId, timeout.Phase);
                break;
        }

        ContinueResume(ctx);

        // An input that changed nothing leaves no trace: a duplicate progress report or a timeout for a phase
        // already over would only clutter the history. One that came with news of the house stays, with its host:
        // replay needs to know which host's change the saga was told of.
        if (record is not null && ctx.Events.Count == 1)
        {
            return [];
        }

        return ctx.Events;
    }

    private static IDomainEvent? Record(UserInput input, Instant now) => input switch
    {
        ObserveAgentReport r => new AgentReported(input.User, r.Report, input.Seed, now),
        Settle s => new SettlingWaitRanOut(input.User, s.SettleId, input.Seed, now),
        CheckTimeout t => new PhaseTimeoutRanOut(input.User, t.MoveId, t.Phase, input.Seed, now),
        ObserveHostChange h => new HostChangeNoticed(input.User, h.Host, input.Seed, now),
        _ => null,
    };

    /// <summary>What one call of Decide works with; Emit folds each event in at once so later steps see it.</summary>
    private sealed class Context(UserSaga state, UserSpec user, HousePolicy policy, HouseSnapshot house, Ids ids, Instant now)
    {
        private int decisions;

        public UserSaga State { get; private set; } = state;
        public UserSpec User { get; } = user;
        public HousePolicy Policy { get; } = policy;
        public PolicySettings Settings => Policy.Settings;
        public HouseSnapshot House { get; } = house;
        public Ids Ids { get; } = ids;
        public Instant Now { get; } = now;
        public List<object> Events { get; } = [];
        public VmSpec? Vm => Policy.Vm(User.Vm);
        public int MemoryMb => Vm?.MemoryMb ?? 0;

        public void Emit(object e)
        {
            Events.Add(e);
            State = Evolve(State, e);

            // Every phase a move enters gets its timeout at once, so no path can start a phase that waits forever.
            if (TimeoutFor(this, e) is { } timeout)
            {
                Emit(timeout);
            }
        }

        /// <summary>The first decision keeps the seed's plain decision id; later ones in the same call are numbered.</summary>
        public string NextDecisionId() => decisions++ == 0
            ? Ids.Decision()
            : "d-" + Ids.Derive("decision/" + decisions.ToString(CultureInfo.InvariantCulture)).ToString("N")[..12];

        public LocalTime LocalNow =>
            Now.InZone(DateTimeZoneProviders.Tzdb.GetZoneOrNull(Settings.TimeZone) ?? DateTimeZone.Utc).TimeOfDay;

        /// <summary>A copy to think in: what it emits is looked at, never recorded.</summary>
        public Context Scratch() => new(State, User, Policy, House, Ids, Now) { decisions = decisions };
    }

    /// <summary>How far two computers' clocks may disagree before one's evidence counts as older than the other's.</summary>
    private static readonly Duration ClockSlack = Duration.FromSeconds(30);

    private static void OnEvidence(Context ctx, Evidence evidence)
    {
        var state = ctx.State;
        // Delivered late: it happened before what put the user where she is, so it says nothing about now. Another
        // computer's clock may run a little behind, so only evidence older by more than that slack counts as late
        // here; evidence late by the same computer's own clock was already set aside by Decide.
        if (state.SeatEvidenceAt is { } seated && evidence.At < seated - ClockSlack)
        {
            return;
        }

        if (LeavingWithLaptop(ctx, evidence) is { } leaving)
        {
            ctx.Emit(new LeavingDetected(state.Id, evidence.Host, leaving, [evidence.Id], ctx.Now));
            if (state.Seat != evidence.Host)
            {
                ctx.Emit(new SeatChanged(state.Id, evidence.Host, state.Seat, 0.8, [evidence.Id], ctx.Now));
            }

            Consider(ctx, evidence.Host, [evidence.Id], Trigger.Urgent, Rules.LeavingWithLaptop);
            return;
        }

        var seat = new SeatBelief(state.Seat, state.SeatConfidence, state.SeatEvidence);
        var belief = SeatInference.Infer(seat, evidence, ctx.Settings);
        if (belief is null || belief.Seat == state.Seat)
        {
            return;
        }

        ctx.Emit(new SeatChanged(state.Id, belief.Seat, state.Seat, belief.Confidence, belief.EvidenceIds, ctx.Now));
        if (belief.Seat is { } target)
        {
            Consider(ctx, target, belief.EvidenceIds, Trigger.Seat);
        }
    }

    /// <summary>
    /// Unplugged and then the lid shut within the leave window, or Wi-Fi moved off the home network while still
    /// connected: the laptop is leaving the house with its user, who must find the VM on it.
    /// </summary>
    private static string? LeavingWithLaptop(Context ctx, Evidence evidence)
    {
        var host = ctx.Policy.Host(evidence.Host);
        if (host is not { Role: HostRole.Laptop } || ctx.State.Seat != evidence.Host)
        {
            return null;
        }

        if (evidence.Kind == EvidenceKind.Lid && evidence.Detail("state") == "closed"
            && ctx.State.UnpluggedAt.TryGetValue(evidence.Host, out var unplugged)
            && evidence.At - unplugged <= ctx.Settings.LeaveWindow && evidence.At >= unplugged)
        {
            return $"{evidence.Host} was unplugged at {Clock(ctx, unplugged)} and its lid closed at {Clock(ctx, evidence.At)}";
        }

        if (evidence.Kind == EvidenceKind.Wifi && evidence.Detail("state") == "connected"
            && ctx.Settings.HomeNetworks is { Count: > 0 } home && evidence.Detail("ssid") is { } ssid && !home.Contains(ssid))
        {
            return home.Count == 1
                ? $"{evidence.Host} joined Wi-Fi '{ssid}', away from the home network '{home[0]}'"
                : $"{evidence.Host} joined Wi-Fi '{ssid}', away from the home networks {string.Join(", ", home.Select(n => $"'{n}'"))}";
        }

        return null;
    }

    private static void OnRequest(Context ctx, Evidence request)
    {
        var state = ctx.State;
        switch (request.Detail("action"))
        {
            case "hold":
                if (!state.Held)
                {
                    ctx.Emit(new HoldChanged(state.Id, true, request.Id, ctx.Now));
                }

                break;
            case "release":
                if (state.Held)
                {
                    ctx.Emit(new HoldChanged(state.Id, false, request.Id, ctx.Now));
                }

                break;
            case "follow":
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
            case "move" when request.Detail("target") is { } target:
                Consider(ctx, target, [request.Id], Trigger.Requested, Rules.RequestMove);
                break;
            case "home":
                Consider(ctx, ctx.User.HomeHost, [request.Id], Trigger.Requested, Rules.RequestHome);
                break;
            case "approve" or "decline" when request.Detail("decision_id") is { } decision:
                Answer(ctx, request, decision, approved: request.Detail("action") == "approve");
                break;
            default:
                ctx.Emit(new RequestRefused(state.Id, request.Id, $"request '{request.Detail("action")}' lacks what it needs", ctx.Now));
                break;
        }
    }

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

        var operation = "o-" + ctx.Ids.Derive("resume").ToString("N")[..12];
        ctx.Emit(new ResumeRequested(state.Id, operation, ctx.User.Vm, target, frozen.File, ctx.Ids.Command("resume"), ctx.Now));
    }

    public static UserSaga Evolve(UserSaga state, object @event) => @event switch
    {
        UserEnrolled u => WithHouse(state with { Vm = u.Vm, VmHost = state.Vm == u.Vm ? state.VmHost : null }, state.House),
        HouseObserved h => WithHouse(state, new HouseSnapshot(h.Hosts)),
        SignalRecorded s => WithEvidence(state, s.Evidence),
        SeatChanged s => state with
        {
            Seat = s.Seat,
            SeatConfidence = s.Confidence,
            SeatEvidence = s.EvidenceIds,
            SeatEvidenceAt = state.LastEvidenceAt, // the evidence recorded just before it, which moved the seat
            Since = s.At,
        },
        SettlingStarted s => state with { Settling = new PendingSettle(s.SettleId, s.Seat, s.DueAt, s.EvidenceIds) },
        SettlingLapsed => state with { Settling = null },
        PlacementDecided d => state with
        {
            LastDecision = new LastDecision(d.DecisionId, d.Rule, d.Reason, d.At),
            CarryingOut = d.DecisionId,
            CarryingOutStartedBy = d.EvidenceIds.Count > 0 ? d.EvidenceIds[^1] : null,
            Decisions = state.Decisions + 1,
            Settling = null,
            Proposal = null,
            EvacuatedFrom = d.Rule == Rules.MaintenanceEvacuate ? d.From
                : d.Rule == Rules.MaintenanceReturn ? null
                : state.EvacuatedFrom,
        },
        PlacementProposed p => state with
        {
            Proposal = p,
            Settling = null,
            LastDecision = new LastDecision(p.DecisionId, p.Rule, "waiting for approval: " + p.Reason, p.At),
        },
        ProposalAnswered => state with { Proposal = null },
        MoveSuppressed s => state with
        {
            LastDecision = new LastDecision(s.DecisionId, s.Rule, s.Reason, s.At),
            Settling = null,
        },
        HoldChanged h => state with { Held = h.Held },
        IncomingRequested r => state with
        {
            Migration = new PendingMigration(
                r.MigrationId, r.Vm, r.Source, r.Target, Phases.Preparing, r.CommandId, null, null, null, r.At, r.MemoryMb,
                AgentCommands.For(r).Single()),
            Since = r.At,
        },
        PhaseTimeoutScheduled t => state with { Timeout = new PendingTimeout(t.MoveId, t.Phase, t.Window, t.DueAt) },
        IncomingReady r when state.Migration is { } m => state with { Migration = m with { IncomingUri = r.IncomingUri } },
        MigrationRequested r when state.Migration is { } m => state with
        {
            Migration = m with { Phase = Phases.Migrating, MigrateCommandId = r.CommandId, Sent = AgentCommands.For(r).Single() },
        },
        MigrationProgressed p when state.Migration is { } m => state with
        {
            Migration = m with { Percent = p.Percent, ProgressAt = p.At },
            DirtyPagesRate = p.DirtyPagesRate ?? state.DirtyPagesRate,
        },
        MigrationCompleted c => state with
        {
            VmHost = c.Target,
            VmHostConfirmed = state.House.Host(c.Target).Runs(c.Vm),
            Migration = null,
            DisplayedOn = null,
            LastMoveAt = c.At,
            SecondsPerGib = Measured(state, c),
            Since = c.At,

            // Only the evacuation's own move keeps the way back open; once the VM moved on, the old host has no claim.
            EvacuatedFrom = c.Source == state.EvacuatedFrom ? state.EvacuatedFrom : null,
        },
        MigrationFailed f => state with
        {
            VmHost = f.StillOn,

            // Once the VM was being sent, the source is believed until the agents' inventories contradict it (see
            // WithHouse): a send that finished while its answer was lost then shows up as the VM running on the target.
            VmHostConfirmed = f.WhereaboutsUncertain || f.Phase == Phases.Migrating || state.House.Host(f.StillOn).Runs(f.Vm),
            Migration = null,
            Since = f.At,
        },
        DisplayAttachRequested d => state with { PendingDisplay = new PendingDisplay(d.CommandId, d.Host) },
        DisplayAttached d => state with { DisplayedOn = d.Host, PendingDisplay = null, Since = d.At },
        DisplayAttachFailed => state with { PendingDisplay = null },
        SuspendRequested s => state with
        {
            Operation = new PendingOperation(s.OperationId, PendingOperation.Suspend, s.Vm, s.Host, s.File, s.CommandId, s.ResumeOn, s.At),
            Since = s.At,
        },
        VmSuspended s => state with
        {
            Operation = null,
            Suspended = new SuspendedVm(s.File, s.Host, s.ResumeOn, s.At),
            VmHost = null,
            DisplayedOn = null,
            Since = s.At,
        },
        SuspendFailed => state with { Operation = null },
        ResumeRequested r => state with
        {
            Operation = new PendingOperation(r.OperationId, PendingOperation.Resume, r.Vm, r.Host, r.File, r.CommandId, null, r.At),
        },
        VmResumed r => state with
        {
            Operation = null,
            Suspended = null,
            VmHost = r.Host,
            VmHostConfirmed = false,
            LastMoveAt = r.At,
            Since = r.At,
            EvacuatedFrom = null, // it woke where it was wanted: nothing to bring back
        },
        // The planned target said it cannot: stop waiting for it (or every input would retry), and wake it at a seat.
        ResumeFailed f => state with
        {
            Operation = null,
            Suspended = state.Suspended is { } frozen && frozen.ResumeOn == f.Host ? frozen with { ResumeOn = null } : state.Suspended,
        },
        _ => state,
    };

    private static UserSaga WithEvidence(UserSaga state, Evidence evidence)
    {
        var clocks = new Dictionary<string, Instant>(state.NewestEvidence);
        if (!clocks.TryGetValue(evidence.Host, out var newest) || evidence.At > newest)
        {
            clocks[evidence.Host] = evidence.At;
        }

        var next = state with { LastEvidenceAt = evidence.At, NewestEvidence = clocks };
        if (evidence.Kind != EvidenceKind.Power)
        {
            return next;
        }

        var unplugged = new Dictionary<string, Instant>(state.UnpluggedAt);
        if (evidence.Detail("ac") == "false")
        {
            unplugged[evidence.Host] = evidence.At;
        }
        else
        {
            unplugged.Remove(evidence.Host);
        }

        return next with { UnpluggedAt = unplugged };
    }

    /// <summary>Seconds per GiB, averaged with the past so one odd move does not swing the estimates.</summary>
    private static double? Measured(UserSaga state, MigrationCompleted completed)
    {
        if (completed.TotalTimeMs is not { } ms || state.Migration is not { MemoryMb: > 0 } m)
        {
            return state.SecondsPerGib;
        }

        var sample = ms / 1000.0 / (m.MemoryMb / 1024.0);
        return state.SecondsPerGib is { } before ? (before + sample) / 2 : sample;
    }

    /// <summary>
    /// Agents' inventories lag behind our own record of a finished move, so they only settle where the VM runs
    /// when we know nothing yet, or when the host we believe in stopped reporting it and exactly one other does.
    /// Right after a move the target must first confirm the VM before any inventory may say otherwise.
    /// </summary>
    private static UserSaga WithHouse(UserSaga state, HouseSnapshot house)
    {
        var next = state with { House = house };
        if (state.Vm is not { } vm || state.Busy || state.Suspended is not null)
        {
            return next;
        }

        if (!state.VmHostConfirmed)
        {
            return state.VmHost is { } expected && house.Host(expected).Runs(vm) ? next with { VmHostConfirmed = true } : next;
        }

        var runningOn = house.Hosts.Where(h => h.Runs(vm)).Select(h => h.Name).ToList();
        if (runningOn.Count != 1)
        {
            return next;
        }

        var believed = state.VmHost is { } host ? house.Host(host) : null;
        var contradicted = believed is null || (believed.AgentOnline && !believed.Runs(vm));
        return contradicted ? next with { VmHost = runningOn[0] } : next;
    }

    private static string Clock(Context ctx, Instant at) =>
        at.InZone(DateTimeZoneProviders.Tzdb.GetZoneOrNull(ctx.Settings.TimeZone) ?? DateTimeZone.Utc)
            .ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
