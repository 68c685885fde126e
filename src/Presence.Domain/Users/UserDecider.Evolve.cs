using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Domain.Users;

/// <summary>
/// What the saga remembers: <see cref="Evolve"/> folds one event into it. Every decision reads the saga, so what is
/// not folded here cannot be decided on.
/// </summary>
public static partial class UserDecider
{
    public static UserSaga Evolve(UserSaga state, object @event) => @event switch
    {
        UserEnrolled u => WithHouse(state with { Vm = u.Vm, VmHost = state.Vm == u.Vm ? state.VmHost : null }, state.Vm == u.Vm ? state.HouseSeen : state.HouseSeen.For(u.Vm)),
        HouseObserved h => WithHouse(state, state.HouseSeen.Observed(h.Hosts, state.Vm)),
        HouseChanged c => WithHouse(state, state.HouseSeen.With(c.Hosts, c.Gone, state.Vm)),
        SignalRecorded s => WithEvidence(state, s.Evidence),
        SeatChanged s => state with
        {
            Seat = s.Seat,
            SeatConfidence = s.Confidence,
            SeatEvidence = s.EvidenceIds,
            SeatEvidenceAt = state.LastEvidenceAt, // the evidence recorded just before it, which moved the seat
            Since = s.At,
        },
        SettlingStarted s => state with { Settling = new PendingSettle(s.SettleId, s.Seat, s.DueAt, s.EvidenceIds) { Mode = s.Mode } },
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
        AutomationLevelChanged a => state with { Automation = new AutomationSetting(a.Level, a.HouseFileLevel) },
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
            VmHostConfirmed = state.HouseSeen.Runs(c.Target, c.Vm),
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
            VmHostConfirmed = f.WhereaboutsUncertain || f.Phase == Phases.Migrating || state.HouseSeen.Runs(f.StillOn, f.Vm),
            Migration = null,
            Since = f.At,
        },
        DisplayAttachRequested d => state with { PendingDisplay = new PendingDisplay(d.CommandId, d.Host), ShownOn = d.Host, ShownFrom = state.VmHost },
        DisplayDetachRequested d => state with
        {
            ShownOn = state.ShownOn == d.Host ? null : state.ShownOn,
            ShownFrom = state.ShownOn == d.Host ? null : state.ShownFrom,
            DisplayedOn = state.DisplayedOn == d.Host ? null : state.DisplayedOn,
            PendingDisplay = state.PendingDisplay?.Host == d.Host ? null : state.PendingDisplay,
        },
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

    /// <summary>
    /// Whether <see cref="Evolve"/> lets this event change where the saga believes the VM is
    /// (<see cref="UserSaga.VmHost"/>, <see cref="UserSaga.Suspended"/>) or anything that belief is settled from (the
    /// VM, a move or operation under way, <see cref="UserSaga.VmHostConfirmed"/>, the house seen). An event that Evolve
    /// lets touch any of them must be here: the replay folds only these on the recorded side, to know where the
    /// recording had the VM, and most events are signals, seats, displays and progress that cannot move it
    /// (Properties/decider_invariants.Whereabouts).
    /// </summary>
    public static bool MayMoveTheVm(object @event) => @event
        is UserEnrolled or HouseObserved or HouseChanged
        or IncomingRequested or MigrationCompleted or MigrationFailed
        or SuspendRequested or VmSuspended or SuspendFailed or ResumeRequested or VmResumed or ResumeFailed;

    private static UserSaga WithEvidence(UserSaga state, Evidence evidence)
    {
        var clocks = state.NewestEvidence;
        // Relayed evidence is stamped by the server's clock on arrival: never the computer's newest word (Decide).
        if (!EvidenceStrength.Relayed(evidence) && (!clocks.TryGetValue(evidence.Host, out var newest) || evidence.At > newest))
        {
            clocks = clocks.SetItem(evidence.Host, evidence.At);
        }

        if (evidence.Kind != EvidenceKind.Power)
        {
            return state with { LastEvidenceAt = evidence.At, NewestEvidence = clocks };
        }

        var unplugged = evidence.Detail(Power.Ac) == Power.False
            ? state.UnpluggedAt.SetItem(evidence.Host, evidence.At)
            : state.UnpluggedAt.Remove(evidence.Host);
        return state with { LastEvidenceAt = evidence.At, NewestEvidence = clocks, UnpluggedAt = unplugged };
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
    private static UserSaga WithHouse(UserSaga state, HouseSeen house)
    {
        // One copy of the saga, not two: folding a year again is mostly copying sagas (issue 11 §7).
        var (vmHost, confirmed) = Whereabouts(state, house);
        return state with { HouseSeen = house, VmHost = vmHost, VmHostConfirmed = confirmed };
    }

    private static (string? VmHost, bool Confirmed) Whereabouts(UserSaga state, HouseSeen house)
    {
        if (state.Vm is not { } vm || state.Busy || state.Suspended is not null)
        {
            return (state.VmHost, state.VmHostConfirmed);
        }

        if (!state.VmHostConfirmed)
        {
            return (state.VmHost, state.VmHost is { } expected && house.Runs(expected, vm));
        }

        var runningOn = house.HostsRunning(vm);
        if (runningOn.Count != 1)
        {
            return (state.VmHost, true);
        }

        var contradicted = state.VmHost is not { } believed || (house.AgentOnline(believed) && !house.Runs(believed, vm));
        return (contradicted ? runningOn[0] : state.VmHost, true);
    }
}
