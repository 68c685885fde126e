using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Domain.Audit;

/// <summary>
/// Answers questions about one user's stream: why a move happened (<see cref="Explain"/>), what happened in a window
/// (<see cref="Window"/>), and where things stood at an instant (<see cref="StateAt"/>). Pure: the events are given,
/// and everything goes by domain time (<see cref="IDomainEvent.At"/>), never by when the events were stored.
/// </summary>
public sealed class UserHistory
{
    private static readonly LocalDateTimePattern LongClock = LocalDateTimePattern.CreateWithInvariantCulture("ddd d MMM uuuu HH':'mm':'ss");
    private static readonly LocalDateTimePattern ShortClock = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm':'ss");

    private readonly IReadOnlyList<Recorded> events;
    private readonly DateTimeZone zone;

    /// <param name="events">The user's stream; put in stream order here whatever order they come in.</param>
    /// <param name="zone">The house's time zone, for the texts.</param>
    /// <param name="vm">The user's VM when the stream does not say (a stream that lacks its first <see cref="UserEnrolled"/>).</param>
    public UserHistory(string user, IEnumerable<Recorded> events, DateTimeZone zone, string? vm = null)
    {
        User = user;
        this.events = events.OrderBy(e => e.Version).ToList();
        this.zone = zone;
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
            .Select(Line)
            .OfType<HistoryLine>()
            .ToList();

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"History of {User}");
        text.Append(since is { } from ? $" from {Clock(from)}" : "");
        text.Append(until is { } to ? $" until {Clock(to)}" : "");
        text.Append(CultureInfo.InvariantCulture, $" ({zone.Id}): {lines.Count} entries\n");
        foreach (var line in lines)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {line.Local}  {line.Text}{(line.Id is null ? "" : $"  [{line.Id}]")}\n");
        }

        if (lines.Count == 0)
        {
            text.Append("  nothing was recorded in that window\n");
        }

        return new HistoryWindow(User, since, until, zone.Id, lines, text.ToString().TrimEnd('\n'));
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
            throw first is { } f
                ? new AuditException(AuditProblem.BadInstant, $"nothing was recorded for {User} at or before {Clock(at)}: the history starts at {Clock(f)}")
                : new AuditException(AuditProblem.UnknownUser, $"nothing is recorded for {User} yet");
        }

        var applied = events.Where(e => e.At <= at).ToList();
        var state = applied.Aggregate(UserSaga.Start(User, initialVm), (s, e) => UserDecider.Evolve(s, e.Data));
        var pending = Pending(state);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{User} at {Clock(at)} ({zone.Id}):\n");
        text.Append(CultureInfo.InvariantCulture, $"  seat:      {(state.Seat is { } seat ? $"{seat} (confidence {Percent(state.SeatConfidence)})" : "none (not at any computer)")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  vm:        {state.Vm ?? "unknown"} on {state.VmHost ?? (state.Suspended is not null ? "no host (frozen)" : "an unknown host")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  mode:      {ModeText(state.Mode)}{(state.DisplayedOn is { } shown ? $", shown on {shown}" : "")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  pending:   {(pending.Count == 0 ? "nothing" : string.Join("\n             ", pending.Select(p => p.Text)))}\n");
        text.Append(CultureInfo.InvariantCulture, $"  last decision: {(state.LastDecision is { } d ? $"{d.Id} at {Clock(d.At)}, {d.Rule}: {d.Reason}" : "none yet")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  ({applied.Count} of {events.Count} events had happened by then)");
        return new StateAtInstant(
            User, at, zone.Id, state.Vm, state.Seat, state.SeatConfidence, state.VmHost, state.DisplayedOn, state.Mode, state.Held,
            pending, state.LastDecision, applied.Count, applied.Count == 0 ? null : applied.Max(e => e.At), text.ToString());
    }

    private List<PendingMove> Pending(UserSaga state)
    {
        var pending = new List<PendingMove>();
        if (state.Migration is { } m)
        {
            pending.Add(new PendingMove("migration", m.Id, m.Source, m.Target, m.Phase, m.Percent, m.StartedAt, DueAt(state, m.Id),
                $"migration {m.Id}: {m.Vm} from {m.Source} to {m.Target}, {m.Phase}{(m.Percent is { } p ? $" at {p.ToString("0.#", CultureInfo.InvariantCulture)}%" : "")}, since {Clock(m.StartedAt)}"));
        }

        if (state.Operation is { } op)
        {
            pending.Add(new PendingMove(op.Kind, op.Id, op.Kind == PendingOperation.Suspend ? op.Host : null, op.Kind == PendingOperation.Resume ? op.Host : op.ResumeOn,
                op.Kind == PendingOperation.Suspend ? Phases.Suspending : Phases.Resuming, null, op.StartedAt, DueAt(state, op.Id),
                $"{op.Kind} {op.Id}: {(op.Kind == PendingOperation.Suspend ? $"freezing {op.Vm} on {op.Host} into {op.File}" : $"waking {op.Vm} on {op.Host} from {op.File}")}, since {Clock(op.StartedAt)}"));
        }

        if (state.Suspended is { } frozen)
        {
            pending.Add(new PendingMove("suspended", frozen.File, frozen.From, frozen.ResumeOn, null, null, frozen.At, null,
                $"frozen in {frozen.File} since {Clock(frozen.At)}, {(frozen.ResumeOn is { } on ? $"to wake on {on}" : "to wake at the next seat")}"));
        }

        if (state.Settling is { } settle)
        {
            pending.Add(new PendingMove("settling", settle.SettleId, state.VmHost, settle.Seat, null, null, state.Since ?? settle.DueAt, settle.DueAt,
                $"settling {settle.SettleId}: acting for {settle.Seat} at {Clock(settle.DueAt)} if {User} is still there"));
        }

        if (state.Proposal is { } proposal)
        {
            pending.Add(new PendingMove("proposal", proposal.DecisionId, proposal.From, proposal.To, null, null, proposal.At, null,
                $"proposal {proposal.DecisionId}: {ModeText(proposal.Mode)} to {proposal.To}, waiting for approval since {Clock(proposal.At)}"));
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
            .SelectMany(e => AgentCommands.For(e.Data).Select(c => new CommandSent(e.At, c.Host, Snake(c.Kind.ToString()), c.CommandId, c.Vm, CommandText(c))))
            .ToList();
        var outcome = Outcome(d, decisionId, at, related);
        var explanation = new Explanation(
            User, id, kind, decisionId, verdict, at, vm, from, to, mode, rule, reason, moveIds, signals, seat, rejected,
            estimate?.TotalSeconds, commands, outcome, policy, zone.Id, "");
        return explanation with { Text = Render(explanation) };
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

        return related.Where(e => e.Data is not HouseObserved).OrderBy(e => e.Version).ToList();
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
                return new SignalSeen(s.Id, s.At, Snake(s.Kind.ToString()), s.Host, s.User, s.Details, IsLate(e), s.ToString());
            })
            .ToList();
    }

    // Stored after newer evidence from the same computer was already known: the decider set it aside.
    private bool IsLate(Recorded signal) =>
        signal.Data is SignalRecorded s
        && events.Any(e => e.Version < signal.Version && e.Data is SignalRecorded other && other.Evidence.Host == s.Evidence.Host && other.At > s.At);

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

    private StoryOutcome Outcome(IDomainEvent? decision, string? decisionId, Instant decidedAt, List<Recorded> related)
    {
        double After(Instant at) => Math.Round((at - decidedAt).TotalSeconds, 1);

        if (decision is MoveSuppressed suppressed)
        {
            return new StoryOutcome("suppressed", suppressed.At, suppressed.Reason, null, null, null,
                $"Nothing was done: rule {suppressed.Rule} held the move back.");
        }

        if (decision is PlacementProposed)
        {
            var answered = events.FirstOrDefault(e => e.Data is ProposalAnswered a && a.DecisionId == decisionId);
            if (answered?.Data is not ProposalAnswered answer)
            {
                return new StoryOutcome("waiting", null, null, null, null, null, "Nothing was sent yet: the proposal waits for someone to approve or decline it.");
            }

            if (!answer.Approved)
            {
                return new StoryOutcome("declined", answer.At, null, null, null, After(answer.At), $"Declined at {Clock(answer.At)} ({answer.EvidenceId}); nothing was done.");
            }

            // Approval plans again against the house as it is then, so the move carries a decision of its own.
            var carried = events.FirstOrDefault(e => e.Version > answered.Version && e.Data is PlacementDecided or MoveSuppressed)?.Data;
            var then = carried switch
            {
                PlacementDecided d => $"; the move was decided again then as {d.DecisionId} (`explain {d.DecisionId}` tells how it went)",
                MoveSuppressed m => $"; planned again then, it was held back by rule {m.Rule} ({m.DecisionId})",
                _ => "",
            };
            return new StoryOutcome("approved", answer.At, null, null, null, After(answer.At), $"Approved at {Clock(answer.At)} ({answer.EvidenceId}){then}.");
        }

        var ending = related.LastOrDefault(e => e.Data is MigrationCompleted or MigrationFailed or VmSuspended or SuspendFailed
            or VmResumed or ResumeFailed or DisplayAttached or DisplayAttachFailed);
        switch (ending?.Data)
        {
            case MigrationCompleted c:
                var measured = c.TotalTimeMs is { } total
                    ? $" The migration took {Ms(total)}{(c.DowntimeMs is { } down ? $", of which the VM was paused {Ms(down)}" : "")}."
                    : "";
                return new StoryOutcome("completed", c.At, null, c.TotalTimeMs, c.DowntimeMs, After(c.At),
                    $"Done at {Clock(c.At)}: {c.Vm} runs on {c.Target}, {Seconds(After(c.At))} after the decision.{measured}");
            case MigrationFailed f:
                return new StoryOutcome("failed", f.At, f.Reason, null, null, After(f.At),
                    $"Failed at {Clock(f.At)} while {f.Phase}: {f.Reason}. {f.Vm} {(f.WhereaboutsUncertain ? "was last known on" : "still runs on")} {f.StillOn}.");
            case VmSuspended s:
                return new StoryOutcome(s.ResumeOn is null ? "completed" : "in_progress", s.At, null, null, null, After(s.At),
                    $"Frozen at {Clock(s.At)} into {s.File}{(s.ResumeOn is { } on ? $"; waiting to wake on {on}" : "")}.");
            case SuspendFailed f:
                return new StoryOutcome("failed", f.At, f.Reason, null, null, After(f.At), $"Failed at {Clock(f.At)}: {f.Reason}. {f.Vm} still runs on {f.Host}.");
            case VmResumed r:
                return new StoryOutcome("completed", r.At, null, null, null, After(r.At),
                    $"Done at {Clock(r.At)}: {r.Vm} woke on {r.Host}, {Seconds(After(r.At))} after the decision.");
            case ResumeFailed f:
                return new StoryOutcome("failed", f.At, f.Reason, null, null, After(f.At), $"Failed at {Clock(f.At)}: {f.Reason}. {f.Vm} stays frozen.");
            case DisplayAttached a:
                return new StoryOutcome("completed", a.At, null, null, null, After(a.At),
                    $"Done at {Clock(a.At)}: {a.Vm} is shown on {a.Host}'s screen, {Seconds(After(a.At))} after the decision.");
            case DisplayAttachFailed f:
                return new StoryOutcome("failed", f.At, f.Reason, null, null, After(f.At), $"Failed at {Clock(f.At)}: {f.Host} could not show {f.Vm}: {f.Reason}.");
        }

        if (related.LastOrDefault(e => e.Data is MigrationProgressed) is { Data: MigrationProgressed progress })
        {
            return new StoryOutcome("in_progress", progress.At, null, null, null, After(progress.At),
                $"Still moving: {progress.Percent?.ToString("0.#", CultureInfo.InvariantCulture) ?? "?"}% at {Clock(progress.At)}, the last report recorded.");
        }

        return related.Count > 0
            ? new StoryOutcome("in_progress", related[^1].At, null, null, null, After(related[^1].At), $"Not over yet: the last step recorded was at {Clock(related[^1].At)}.")
            : new StoryOutcome("decided", null, null, null, null, null, "Nothing needed sending: the decision changed nothing an agent had to do.");
    }

    private string Render(Explanation e)
    {
        var text = new StringBuilder();
        var title = e.Kind == "decision" ? $"Decision {e.Id}" : $"{Capital(e.Kind)} {e.Id}{(e.DecisionId is { } d ? $" (decision {d})" : "")}";
        text.Append(CultureInfo.InvariantCulture, $"{title} for {e.User}{(e.Vm is { } vm ? $" ({vm})" : "")}, {LongClock.Format(Local(e.At))} ({zone.Id})\n\n");

        text.Append("What was seen:\n");
        if (e.Signals.Count == 0)
        {
            text.Append("  no signal: it followed from the house changing, a wait or a timeout\n");
        }

        foreach (var s in e.Signals)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {Clock(s.At)}  {s.Text}  [{s.Id}]{(s.Late ? " (arrived late)" : "")}\n");
        }

        if (e.Seat is { } seat)
        {
            var where = seat.Seat is { } at ? $"at {at}" : "at no computer";
            var previous = seat.PreviousSeat is { } p ? $", before that at {p}" : "";
            text.Append(CultureInfo.InvariantCulture, $"\nWhere {e.User} was: {where}, confidence {Percent(seat.Confidence)} (from {string.Join(", ", seat.EvidenceIds)}, {Clock(seat.At)}){previous}.\n");
        }

        text.Append('\n');
        switch (e.Verdict)
        {
            case "decided":
            case "proposed":
                text.Append(CultureInfo.InvariantCulture,
                    $"What was decided{(e.Verdict == "proposed" ? " (proposed, waiting for approval)" : "")}: {Action(e)}, by rule {e.Rule}.\n  Why: {e.Reason}.\n");
                break;
            case "suppressed":
                text.Append(CultureInfo.InvariantCulture, $"What was decided: not to move{(e.To is { } wanted ? $" to {wanted}" : "")}, by rule {e.Rule}.\n  Why: {e.Reason}.\n");
                break;
            default:
                text.Append("No decision in the history names this move.\n");
                break;
        }

        if (e.EstimatedSeconds is { } estimate)
        {
            text.Append(CultureInfo.InvariantCulture, $"  Expected to take {Seconds(Math.Round(estimate, 1))}.\n");
        }

        if (e.Rejected.Count > 0)
        {
            text.Append("\nAlternatives turned down:\n");
            foreach (var r in e.Rejected)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {r.Host}: {r.Reason} (rule {r.Rule})\n");
            }
        }

        text.Append("\nCommands sent:\n");
        if (e.Commands.Count == 0)
        {
            text.Append("  none\n");
        }

        foreach (var c in e.Commands)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {Clock(c.At)}  {c.Text}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"\nOutcome: {e.Outcome.Text}");
        return text.ToString();
    }

    private static string Action(Explanation e) => e.Mode switch
    {
        PlacementMode.AttachDisplay => $"show {e.Vm} where it runs{(e.From is { } f ? $" ({f})" : "")} on {e.To}'s screen",
        PlacementMode.LiveMigration => $"move {e.Vm} while it runs from {e.From ?? "an unknown host"} to {e.To} (live migration)",
        PlacementMode.SuspendResume when e.To == e.From => $"freeze {e.Vm} on {e.From} to shared storage, to wake where it is wanted next (suspend and resume)",
        PlacementMode.SuspendResume => $"freeze {e.Vm} on {e.From ?? "an unknown host"} and wake it on {e.To} (suspend and resume)",
        PlacementMode.Resume => $"wake the frozen {e.Vm} on {e.To}",
        _ => $"put {e.Vm} on {e.To}",
    };

    private HistoryLine? Line(Recorded r)
    {
        var (id, text) = r.Data switch
        {
            UserEnrolled u => (null, $"enrolled with {u.Vm}, home {u.HomeHost} (policy {u.PolicyVersion})"),
            SignalRecorded s => ((string?)s.Evidence.Id, $"signal: {s.Evidence}"),
            SeatChanged s => (null, s.Seat is { } seat ? $"seat: at {seat}, confidence {Percent(s.Confidence)}" : $"seat: left {s.PreviousSeat}, at no computer now"),
            PlacementDecided d => (d.DecisionId, $"decided ({d.Rule}): {Short(d.Mode, d.Vm, d.From, d.To)}: {d.Reason}"),
            PlacementProposed p => (p.DecisionId, $"proposed ({p.Rule}), waiting for approval: {Short(p.Mode, p.Vm, p.From, p.To)}: {p.Reason}"),
            MoveSuppressed s => (s.DecisionId, $"held back ({s.Rule}){(s.Wanted is { } w ? $" a move to {w}" : "")}: {s.Reason}"),
            ProposalAnswered a => (a.DecisionId, a.Approved ? "proposal approved" : "proposal declined"),
            SettlingStarted s => (s.SettleId, $"waiting {Seconds(s.HoldDown.TotalSeconds)} to be sure about {s.Seat}, until {Clock(s.DueAt)}"),
            SettlingLapsed s => (s.SettleId, $"wait over, nothing done: {s.Reason}"),
            HoldChanged h => (null, h.Held ? "hold: the session stays where it is" : "released: following the seat again"),
            RequestRefused rr => (rr.EvidenceId, $"request refused: {rr.Reason}"),
            LeavingDetected l => (null, $"leaving with {l.Host}: {l.Reason}"),
            IncomingRequested i => (i.MigrationId, $"migration started: asked {i.Target} to get ready for {i.Vm}"),
            MigrationRequested m => (m.MigrationId, $"told {m.Source} to send {m.Vm} to {m.Target}"),
            MigrationCompleted c => (c.MigrationId, $"migration done: {c.Vm} on {c.Target}{(c.TotalTimeMs is { } t ? $" in {Ms(t)}" : "")}{(c.DowntimeMs is { } d ? $", paused {Ms(d)}" : "")}"),
            MigrationFailed f => (f.MigrationId, $"migration failed while {f.Phase}: {f.Reason}; still on {f.StillOn}"),
            DisplayAttachRequested d => (d.DecisionId, $"asked {d.Host} to show {d.Vm}"),
            DisplayAttached d => (null, $"{d.Vm} shown on {d.Host}"),
            DisplayAttachFailed d => (null, $"{d.Host} could not show {d.Vm}: {d.Reason}"),
            SuspendRequested s => (s.OperationId, $"told {s.Host} to freeze {s.Vm} into {s.File}"),
            VmSuspended s => (s.OperationId, $"{s.Vm} frozen on {s.Host}"),
            SuspendFailed f => (f.OperationId, $"freezing failed: {f.Reason}"),
            ResumeRequested rq => (rq.OperationId, $"told {rq.Host} to wake {rq.Vm} from {rq.File}"),
            VmResumed v => (v.OperationId, $"{v.Vm} woke on {v.Host}"),
            ResumeFailed f => (f.OperationId, $"waking failed: {f.Reason}"),
            CommandResent c => (c.MoveId, $"sent {Snake(c.Command.Kind.ToString())} to {c.Command.Host} again: {c.Reason}"),
            _ => ((string?)null, (string?)null),
        };

        return text is null ? null : new HistoryLine(r.Version, r.At, ShortClock.Format(Local(r.At)), EventName(r.Data), id, text);
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

    private static string CommandText(CommandToAgent c) => c.Kind switch
    {
        CommandKind.PrepareIncoming => $"prepare_incoming to {c.Host}: get ready to receive {c.Vm}",
        CommandKind.Migrate => $"migrate to {c.Host}: send {c.Vm} to {c.TargetHost}{(c.MaxBandwidthMbps is { } bw ? $" at up to {bw} Mbit/s" : "")}",
        CommandKind.AbortIncoming => $"abort_incoming to {c.Host}: stop waiting for {c.Vm}",
        CommandKind.Cancel => $"cancel to {c.Host}: stop {c.Of ?? "the command"} for {c.Vm}",
        CommandKind.Suspend => $"suspend to {c.Host}: freeze {c.Vm} into {c.To}",
        CommandKind.Resume => $"resume to {c.Host}: wake {c.Vm} from {c.From}",
        CommandKind.AttachDisplay => $"attach_display to {c.Host}: show {c.Vm}",
        CommandKind.DetachDisplay => $"detach_display to {c.Host}: stop showing {c.Vm}",
        _ => $"{Snake(c.Kind.ToString())} to {c.Host}",
    } + $"  (command {c.CommandId})";

    private static string Short(PlacementMode mode, string vm, string? from, string to) => mode switch
    {
        PlacementMode.AttachDisplay => $"show {vm} on {to}'s screen, running on {from ?? "its host"}",
        PlacementMode.LiveMigration => $"live-migrate {vm} {from ?? "?"} → {to}",
        PlacementMode.SuspendResume when to == from => $"freeze {vm} on {from}, to wake where it is wanted next",
        PlacementMode.SuspendResume => $"freeze {vm} on {from ?? "its host"}, wake it on {to}",
        PlacementMode.Resume => $"wake {vm} on {to}",
        _ => $"{vm} → {to}",
    };

    private static string ModeText(PlacementMode mode) => mode switch
    {
        PlacementMode.AttachDisplay => "show on the seat's screen",
        PlacementMode.LiveMigration => "live migration",
        PlacementMode.SuspendResume => "freeze and wake elsewhere",
        PlacementMode.Resume => "wake",
        _ => Snake(mode.ToString()),
    };

    private static string ModeText(SessionMode mode) => mode switch
    {
        SessionMode.ThinClient => "thin client (the VM runs elsewhere and is shown on the seat)",
        SessionMode.Local => "local (the VM runs on the seat)",
        SessionMode.Moving => "moving",
        SessionMode.Held => "held (stays put whatever the signals say)",
        SessionMode.Suspended => "suspended (frozen, running nowhere)",
        _ => Snake(mode.ToString()),
    };

    private static string EventName(IDomainEvent e) => Snake(e.GetType().Name);

    public static string Snake(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Percent(double confidence) => (confidence * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Ms(long ms) => ms >= 1000
        ? (ms / 1000.0).ToString("0.0#", CultureInfo.InvariantCulture) + " s"
        : ms.ToString(CultureInfo.InvariantCulture) + " ms";

    private static string Seconds(double seconds) => seconds switch
    {
        < 60 => seconds.ToString("0.#", CultureInfo.InvariantCulture) + " s",
        < 3600 => $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s",
        _ => $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60)} min",
    };

    private LocalDateTime Local(Instant at) => at.InZone(zone).LocalDateTime;

    private string Clock(Instant at) => ShortClock.Format(Local(at));
}
