using NodaTime;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Domain.Words;

namespace Presence.Domain.Audit;

/// <summary>
/// Answers questions about one user's stream: why a move happened (<see cref="Explain"/>), what happened in a window
/// (<see cref="Window"/>), and where things stood at an instant (<see cref="StateAt"/>). Pure: the events are given,
/// and everything goes by domain time (<see cref="IDomainEvent.At"/>), never by when the events were stored. This
/// file finds the story in the events; <see cref="HistoryText"/> lays it out.
/// </summary>
public sealed class UserHistory
{
    private readonly IReadOnlyList<Recorded> events;
    private readonly DateTimeZone zone;
    private readonly HistoryText text;

    /// <param name="events">The user's stream; put in stream order here whatever order they come in.</param>
    /// <param name="zone">The house's time zone, for the texts.</param>
    /// <param name="vm">The user's VM when the stream does not say (a stream that lacks its first <see cref="UserEnrolled"/>).</param>
    public UserHistory(string user, IEnumerable<Recorded> events, DateTimeZone zone, string? vm = null)
    {
        User = user;
        this.events = events.OrderBy(e => e.Version).ToList();
        this.zone = zone;
        text = new HistoryText(zone);
        initialVm = this.events.Select(e => e.Data).OfType<UserEnrolled>().FirstOrDefault()?.Vm ?? vm;
    }

    private readonly string? initialVm;

    public string User { get; }

    public IReadOnlyList<Recorded> Events => events;

    /// <summary>Whether <paramref name="id"/> names a decision, migration or operation in this stream.</summary>
    public bool Knows(string id) => FindDecision(id) is not null || events.Any(e => MoveIdOf(e.Data) == id) || IsSignal(id);

    /// <summary>The story of a decision (by its id) or of the migration or operation that carried one out.</summary>
    public Explanation Explain(string id)
    {
        if (FindDecision(id) is { } decision)
        {
            return Build(id, "decision", decision);
        }

        // A signal's id, as `history` and the emitters show it: the story of the first decision it led to.
        if (IsSignal(id))
        {
            var led = events.FirstOrDefault(e => e.Data is PlacementDecided or PlacementProposed or MoveSuppressed
                && (e.CorrelationId == id || EvidenceIdsOf(e.Data).Contains(id)));
            return led is not null
                ? Build(id, "signal", led)
                : throw new AuditException(AuditProblem.UnknownId,
                    $"signal '{id}' led to no decision in {User}'s history; `presence history {User}` shows what it changed");
        }

        var move = events.FirstOrDefault(e => MoveIdOf(e.Data) == id)
            ?? throw new AuditException(AuditProblem.UnknownId,
                $"'{id}' is not a decision, migration, operation or signal id in {User}'s history ({events.Count} events); " +
                $"`presence history {User}` lists them");
        var kind = move.Data is IncomingRequested or IncomingReady or MigrationRequested or MigrationProgressed or MigrationCompleted or MigrationFailed
            ? "migration"
            : "operation";
        var decisionId = DecisionIdOfMove(id);
        return Build(id, kind, decisionId is null ? null : FindDecision(decisionId), id);
    }

    /// <summary>What happened between <paramref name="since"/> (inclusive) and <paramref name="until"/> (exclusive), by domain time.</summary>
    public HistoryWindow Window(Instant? since, Instant? until)
    {
        if (since is { } s && until is { } u && u < s)
        {
            throw new AuditException(AuditProblem.BadInstant,
                $"--until ({Clock(u)}) is before --since ({Clock(s)}): the window is empty the wrong way round");
        }

        var lines = events
            .Where(e => (since is null || e.At >= since) && (until is null || e.At < until))
            .OrderBy(e => e.At).ThenBy(e => e.Version)
            .Select(text.Line)
            .OfType<HistoryLine>()
            .ToList();
        return new HistoryWindow(User, since, until, zone.Id, lines, text.Window(User, since, until, lines));
    }

    /// <summary>
    /// The saga as it stood at <paramref name="at"/>: <see cref="UserDecider.Evolve"/> folded over the events that had
    /// happened by then by the house's clock, in stream order.
    /// </summary>
    public StateAtInstant StateAt(Instant at)
    {
        var first = events.Count == 0 ? (Instant?)null : events.Min(e => e.At);
        if (first is null || at < first)
        {
            throw new AuditException(first is null ? AuditProblem.UnknownUser : AuditProblem.BadInstant, text.Empty(User, at, first));
        }

        var applied = events.Where(e => e.At <= at).ToList();
        var state = applied.Aggregate(UserSaga.Start(User, initialVm), (s, e) => UserDecider.Evolve(s, e.Data));
        var pending = Pending(state);
        return new StateAtInstant(
            User, at, zone.Id, state.Vm, state.Seat, state.SeatConfidence, state.VmHost, state.DisplayedOn, state.Mode, state.Held,
            pending, state.LastDecision, applied.Count, applied.Count == 0 ? null : applied.Max(e => e.At),
            text.State(User, at, state, pending, applied.Count, events.Count));
    }

    private List<PendingMove> Pending(UserSaga state)
    {
        var pending = new List<PendingMove>();
        if (state.Migration is { } m)
        {
            pending.Add(new PendingMove("migration", m.Id, m.Source, m.Target, m.Phase, m.Percent, m.StartedAt, DueAt(state, m.Id),
                text.Migration(m)));
        }

        if (state.Operation is { } op)
        {
            pending.Add(new PendingMove(op.Kind, op.Id, op.Kind == PendingOperation.Suspend ? op.Host : null, op.Kind == PendingOperation.Resume ? op.Host : op.ResumeOn,
                op.Kind == PendingOperation.Suspend ? Phases.Suspending : Phases.Resuming, null, op.StartedAt, DueAt(state, op.Id),
                text.Operation(op)));
        }

        if (state.Suspended is { } frozen)
        {
            pending.Add(new PendingMove("suspended", frozen.File, frozen.From, frozen.ResumeOn, null, null, frozen.At, null,
                text.Frozen(frozen)));
        }

        if (state.Settling is { } settle)
        {
            pending.Add(new PendingMove("settling", settle.SettleId, state.VmHost, settle.Seat, null, null, state.Since ?? settle.DueAt, settle.DueAt,
                text.Settling(User, settle.SettleId, settle.Seat, settle.DueAt)));
        }

        if (state.Proposal is { } proposal)
        {
            pending.Add(new PendingMove("proposal", proposal.DecisionId, proposal.From, proposal.To, null, null, proposal.At, null,
                text.Proposal(proposal.DecisionId, proposal.Mode, proposal.To, proposal.At)));
        }

        return pending;
    }

    private static Instant? DueAt(UserSaga state, string moveId) => state.Timeout is { } t && t.MoveId == moveId ? t.DueAt : null;

    private Explanation Build(string id, string kind, Recorded? decision, string? moveId = null)
    {
        var d = decision?.Data;
        var (decisionId, verdict, vm, from, to, mode, rule, reason, evidenceIds, rejected, estimate, policy) = d switch
        {
            PlacementDecided p => (p.DecisionId, "decided", p.Vm, p.From, (string?)p.To, (PlacementMode?)p.Mode, p.Rule, p.Reason, p.EvidenceIds, p.Rejected, (Duration?)p.EstimatedDuration, p.PolicyVersion),
            PlacementProposed p => (p.DecisionId, "proposed", p.Vm, p.From, p.To, p.Mode, p.Rule, p.Reason, p.EvidenceIds, p.Rejected, p.EstimatedDuration, p.PolicyVersion),
            MoveSuppressed s => (s.DecisionId, "suppressed", s.Vm, null, s.Wanted, null, s.Rule, s.Reason, s.EvidenceIds, s.Rejected, null, s.PolicyVersion),
            _ => ((string?)null, "carried_out", (string?)null, (string?)null, (string?)null, (PlacementMode?)null, (string?)null, (string?)null,
                (IReadOnlyList<string>)[], (IReadOnlyList<RejectedAlternative>)[], (Duration?)null, (string?)null),
        };

        var moveIds = new List<string>();
        if (decisionId is not null)
        {
            moveIds.AddRange(events.Select(e => e.Data switch
            {
                IncomingRequested r when r.DecisionId == decisionId => r.MigrationId,
                SuspendRequested s when s.DecisionId == decisionId => s.OperationId,
                _ => null,
            }).OfType<string>());
        }

        // Waking a frozen VM carries no decision id: it is the first wake-up on the decided host after the decision.
        if (d is PlacementDecided { Mode: PlacementMode.Resume } wake && decision is not null
            && events.FirstOrDefault(e => e.Version > decision.Version && e.Data is ResumeRequested r && r.Host == wake.To) is { Data: ResumeRequested resume })
        {
            moveIds.Add(resume.OperationId);
        }

        if (moveId is not null && !moveIds.Contains(moveId))
        {
            moveIds.Add(moveId);
        }

        // A VM frozen by this decision wakes later by an operation of its own, found by the state file it wakes from.
        foreach (var file in events.Select(e => e.Data).OfType<SuspendRequested>().Where(s => moveIds.Contains(s.OperationId)).Select(s => s.File).ToList())
        {
            moveIds.AddRange(events.Select(e => e.Data).OfType<ResumeRequested>().Where(r => r.File == file).Select(r => r.OperationId).Where(o => !moveIds.Contains(o)));
        }

        var related = Related(decision, decisionId, moveIds);
        var at = decision?.At ?? related.FirstOrDefault()?.At ?? events[0].At;
        vm ??= related.Select(e => VmOf(e.Data)).OfType<string>().FirstOrDefault();

        var signals = Signals(decision, evidenceIds);
        var seat = SeatAt(decision, evidenceIds);
        var commands = related
            .SelectMany(e => AgentCommands.For(e.Data).Select(c => new CommandSent(e.At, c.Host, Wording.Snake(c.Kind.ToString()), c.CommandId, c.Vm, EventText.Command(c))))
            .ToList();
        var outcome = Outcome(d, decisionId, at, related);
        var explanation = new Explanation(
            User, id, kind, decisionId, verdict, at, vm, from, to, mode, rule, reason, moveIds, signals, seat, rejected,
            estimate?.TotalSeconds, commands, outcome, policy, zone.Id, "");
        return explanation with { Text = text.Explanation(explanation) };
    }

    /// <summary>
    /// The events that carried the decision out: those of its moves, and those stored under its decision_id header
    /// (agents' answers, waits and timeouts name the decision they carry out; older histories did so by correlation id).
    /// </summary>
    private List<Recorded> Related(Recorded? decision, string? decisionId, List<string> moveIds)
    {
        var related = events.Where(e =>
                (MoveIdOf(e.Data) is { } move && moveIds.Contains(move))
                || (decisionId is not null && (e.Header("decision_id") == decisionId || e.CorrelationId == decisionId || DecisionIdOf(e.Data) == decisionId)
                    && !ReferenceEquals(e, decision)))
            .ToList();

        // A display attach answers with the host only: the first answer from that host after the request is its.
        foreach (var request in events.Where(e => e.Data is DisplayAttachRequested r && r.DecisionId == decisionId).ToList())
        {
            var host = ((DisplayAttachRequested)request.Data).Host;
            var answer = events.FirstOrDefault(e => e.Version > request.Version
                && (e.Data is DisplayAttached attached && attached.Host == host || e.Data is DisplayAttachFailed failed && failed.Host == host));
            if (answer is not null && !related.Contains(answer))
            {
                related.Add(answer);
            }
        }

        return related.Where(e => e.Data is not (HouseObserved or HouseChanged)).OrderBy(e => e.Version).ToList();
    }

    private List<SignalSeen> Signals(Recorded? decision, IReadOnlyList<string> evidenceIds)
    {
        var wanted = new HashSet<string>(evidenceIds);

        // The signal that started the story is the decision's correlation id, even when the decision names others.
        if (decision?.CorrelationId is { } correlation)
        {
            wanted.Add(correlation);
        }

        return events
            .Where(e => e.Data is SignalRecorded s && wanted.Contains(s.Evidence.Id) && (decision is null || e.Version <= decision.Version))
            .GroupBy(e => ((SignalRecorded)e.Data).Evidence.Id).Select(g => g.First())
            .OrderBy(e => e.At)
            .Select(e =>
            {
                var s = ((SignalRecorded)e.Data).Evidence;
                return new SignalSeen(s.Id, s.At, Wording.Snake(s.Kind.ToString()), s.Host, s.User, s.Details, IsLate(e), EventText.Signal(s));
            })
            .ToList();
    }

    // Stored after newer evidence from the same computer was already known: the decider set it aside. Relayed
    // evidence (Home Assistant) is stamped by the server's clock and never compared with a computer's (UserDecider).
    private bool IsLate(Recorded signal) =>
        signal.Data is SignalRecorded s && !EvidenceStrength.Relayed(s.Evidence)
        && events.Any(e => e.Version < signal.Version && e.Data is SignalRecorded other && !EvidenceStrength.Relayed(other.Evidence)
            && other.Evidence.Host == s.Evidence.Host && other.At > s.At);

    private SeatInferred? SeatAt(Recorded? decision, IReadOnlyList<string> evidenceIds)
    {
        if (decision is null)
        {
            return null;
        }

        var before = events.Where(e => e.Version < decision.Version && e.Data is SeatChanged).Select(e => (SeatChanged)e.Data).ToList();
        var seat = before.LastOrDefault(s => s.EvidenceIds.Intersect(evidenceIds).Any()) ?? before.LastOrDefault();
        return seat is null ? null : new SeatInferred(seat.Seat, seat.PreviousSeat, seat.Confidence, seat.EvidenceIds, seat.At);
    }

    /// <summary>How the story ended; <see cref="HistoryText.Outcome"/> says it in words.</summary>
    private StoryOutcome Outcome(IDomainEvent? decision, string? decisionId, Instant decidedAt, List<Recorded> related)
    {
        var (outcome, about, then) = Ending(decision, decisionId, decidedAt, related);
        return outcome with { Text = text.Outcome(outcome, about, then) };
    }

    /// <returns>The outcome, the event it rests on and, for an approval, what the move was planned again into.</returns>
    private (StoryOutcome Outcome, IDomainEvent? About, IDomainEvent? Then) Ending(IDomainEvent? decision, string? decisionId, Instant decidedAt, List<Recorded> related)
    {
        double After(Instant at) => Math.Round((at - decidedAt).TotalSeconds, 1);

        if (decision is MoveSuppressed suppressed)
        {
            return (new StoryOutcome("suppressed", suppressed.At, suppressed.Reason, null, null, null, ""), suppressed, null);
        }

        if (decision is PlacementProposed)
        {
            var answered = events.FirstOrDefault(e => e.Data is ProposalAnswered a && a.DecisionId == decisionId);
            if (answered?.Data is not ProposalAnswered answer)
            {
                return (new StoryOutcome("waiting", null, null, null, null, null, ""), decision, null);
            }

            if (!answer.Approved)
            {
                return (new StoryOutcome("declined", answer.At, null, null, null, After(answer.At), ""), answer, null);
            }

            // Approval plans again against the house as it is then, so the move carries a decision of its own.
            var carried = events.FirstOrDefault(e => e.Version > answered.Version && e.Data is PlacementDecided or MoveSuppressed)?.Data;
            return (new StoryOutcome("approved", answer.At, null, null, null, After(answer.At), ""), answer, carried);
        }

        // A move's story also shows the VM on the seat, first and again once it landed: the move's own end is its outcome.
        var ending = related.LastOrDefault(e => e.Data is MigrationCompleted or MigrationFailed or VmSuspended or SuspendFailed
                or VmResumed or ResumeFailed)?.Data
            ?? related.LastOrDefault(e => e.Data is DisplayAttached or DisplayAttachFailed)?.Data;
        var (status, reason) = ending switch
        {
            MigrationCompleted or VmResumed or DisplayAttached => ("completed", null),
            VmSuspended s => (s.ResumeOn is null ? "completed" : "in_progress", null),
            MigrationFailed f => ("failed", f.Reason),
            SuspendFailed f => ("failed", f.Reason),
            ResumeFailed f => ("failed", f.Reason),
            DisplayAttachFailed f => ("failed", (string?)f.Reason),
            _ => ((string?)null, (string?)null),
        };
        if (ending is not null && status is not null)
        {
            var completed = ending as MigrationCompleted;
            return (new StoryOutcome(status, ending.At, reason, completed?.TotalTimeMs, completed?.DowntimeMs, After(ending.At), ""), ending, null);
        }

        var last = related.LastOrDefault(e => e.Data is MigrationProgressed) ?? related.LastOrDefault();
        return last is not null
            ? (new StoryOutcome("in_progress", last.At, null, null, null, After(last.At), ""), last.Data, null)
            : (new StoryOutcome("decided", null, null, null, null, null, ""), null, null);
    }

    private bool IsSignal(string id) => events.Any(e => e.Data is SignalRecorded s && s.Evidence.Id == id);

    private static IReadOnlyList<string> EvidenceIdsOf(object e) => e switch
    {
        PlacementDecided d => d.EvidenceIds,
        PlacementProposed p => p.EvidenceIds,
        MoveSuppressed m => m.EvidenceIds,
        _ => [],
    };

    private Recorded? FindDecision(string id) =>
        events.FirstOrDefault(e => e.Data is PlacementDecided d && d.DecisionId == id)
        ?? events.FirstOrDefault(e => e.Data is PlacementProposed p && p.DecisionId == id)
        ?? events.FirstOrDefault(e => e.Data is MoveSuppressed s && s.DecisionId == id);

    private string? DecisionIdOfMove(string moveId)
    {
        var start = events.Select(e => e.Data).FirstOrDefault(e => MoveIdOf(e) == moveId && DecisionIdOf(e) is not null);
        if (start is not null)
        {
            return DecisionIdOf(start);
        }

        // A wake-up carries no decision id: it carries out the decision to wake the VM there just before it, or
        // else the one that froze the VM into the same file, naming where it should wake.
        var resume = events.FirstOrDefault(e => e.Data is ResumeRequested r && r.OperationId == moveId);
        if (resume?.Data is not ResumeRequested wake)
        {
            return null;
        }

        var before = events.LastOrDefault(e => e.Version < resume.Version && e.Data is PlacementDecided);
        return before?.Data is PlacementDecided { Mode: PlacementMode.Resume } d && d.To == wake.Host
            ? d.DecisionId
            : events.Select(e => e.Data).OfType<SuspendRequested>().LastOrDefault(s => s.File == wake.File)?.DecisionId;
    }

    private static string? DecisionIdOf(IDomainEvent e) => e switch
    {
        IncomingRequested r => r.DecisionId,
        SuspendRequested s => s.DecisionId,
        DisplayAttachRequested d => d.DecisionId,
        _ => null,
    };

    /// <summary>The migration or operation an event belongs to.</summary>
    public static string? MoveIdOf(IDomainEvent e) => e switch
    {
        IncomingRequested r => r.MigrationId,
        IncomingReady r => r.MigrationId,
        MigrationRequested r => r.MigrationId,
        MigrationProgressed p => p.MigrationId,
        MigrationCompleted c => c.MigrationId,
        MigrationFailed f => f.MigrationId,
        PhaseTimeoutScheduled t => t.MoveId,
        CommandResent c => c.MoveId,
        SuspendRequested s => s.OperationId,
        VmSuspended s => s.OperationId,
        SuspendFailed f => f.OperationId,
        ResumeRequested r => r.OperationId,
        VmResumed r => r.OperationId,
        ResumeFailed f => f.OperationId,
        _ => null,
    };

    private static string? VmOf(IDomainEvent e) => e switch
    {
        IncomingRequested r => r.Vm,
        SuspendRequested s => s.Vm,
        ResumeRequested r => r.Vm,
        _ => null,
    };

    private string Clock(Instant at) => text.Clock(at);
}
