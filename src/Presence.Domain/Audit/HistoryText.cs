using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Domain.Words;

namespace Presence.Domain.Audit;

/// <summary>
/// The layout of <see cref="UserHistory"/>'s answers: the house's clock, the sections of an explanation, the columns
/// of a history window and of a state at an instant. What each event says comes from <see cref="EventText"/>.
/// </summary>
internal sealed class HistoryText(DateTimeZone zone)
{
    private static readonly LocalDateTimePattern LongClock = LocalDateTimePattern.CreateWithInvariantCulture("ddd d MMM uuuu HH':'mm':'ss");
    private static readonly LocalDateTimePattern ShortClock = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm':'ss");

    /// <summary>Bookkeeping a person asking about the past does not need: the house as seen, progress, timeouts set, agents' raw answers.</summary>
    private static readonly HashSet<Type> Unlisted =
    [
        typeof(HouseObserved), typeof(HouseChanged), typeof(IncomingReady), typeof(MigrationProgressed), typeof(PhaseTimeoutScheduled),
        typeof(AgentReported), typeof(SettlingWaitRanOut), typeof(PhaseTimeoutRanOut), typeof(HostChangeNoticed),
    ];

    public string Clock(Instant at) => ShortClock.Format(Local(at));

    public string Window(string user, Instant? since, Instant? until, IReadOnlyList<HistoryLine> lines)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"History of {user}");
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

        return text.ToString().TrimEnd('\n');
    }

    /// <summary>One line of a history window, or null for bookkeeping.</summary>
    public HistoryLine? Line(Recorded r)
    {
        if (Unlisted.Contains(r.Data.GetType()) || EventText.Of(r.Data) is not { } said)
        {
            return null;
        }

        var id = r.Data switch
        {
            SignalRecorded s => s.Evidence.Id,
            PlacementDecided d => d.DecisionId,
            PlacementProposed p => p.DecisionId,
            MoveSuppressed s => s.DecisionId,
            ProposalAnswered a => a.DecisionId,
            SettlingStarted s => s.SettleId,
            SettlingLapsed s => s.SettleId,
            RequestRefused rr => rr.EvidenceId,
            DisplayAttachRequested d => d.DecisionId,
            _ => UserHistory.MoveIdOf(r.Data),
        };
        var text = r.Data is SignalRecorded ? "signal: " + said : said;
        return new HistoryLine(r.Version, r.At, Clock(r.At), Wording.Snake(r.Data.GetType().Name), id, text);
    }

    public string State(string user, Instant at, UserSaga state, IReadOnlyList<PendingMove> pending, int applied, int total)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{user} at {Clock(at)} ({zone.Id}):\n");
        text.Append(CultureInfo.InvariantCulture, $"  seat:      {(state.Seat is { } seat ? $"{seat} (confidence {Wording.Percent(state.SeatConfidence)})" : "none (not at any computer)")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  vm:        {state.Vm ?? "unknown"} on {state.VmHost ?? (state.Suspended is not null ? "no host (frozen)" : "an unknown host")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  mode:      {Wording.Mode(state.Mode)}{(state.DisplayedOn is { } shown ? $", shown on {shown}" : "")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  pending:   {(pending.Count == 0 ? "nothing" : string.Join("\n             ", pending.Select(p => p.Text)))}\n");
        text.Append(CultureInfo.InvariantCulture, $"  last decision: {(state.LastDecision is { } d ? $"{d.Id} at {Clock(d.At)}, {d.Rule}: {d.Reason}" : "none yet")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  ({applied} of {total} events had happened by then)");
        return text.ToString();
    }

    public string Migration(PendingMigration m) =>
        $"migration {m.Id}: {m.Vm} from {m.Source} to {m.Target}, {m.Phase}{(m.Percent is { } p ? $" at {p.ToString("0.#", CultureInfo.InvariantCulture)}%" : "")}, since {Clock(m.StartedAt)}";

    public string Operation(PendingOperation op) =>
        $"{op.Kind} {op.Id}: {(op.Kind == PendingOperation.Suspend ? $"freezing {op.Vm} on {op.Host} into {op.File}" : $"waking {op.Vm} on {op.Host} from {op.File}")}, since {Clock(op.StartedAt)}";

    public string Frozen(SuspendedVm frozen) =>
        $"frozen in {frozen.File} since {Clock(frozen.At)}, {(frozen.ResumeOn is { } on ? $"to wake on {on}" : "to wake at the next seat")}";

    public string Settling(string user, string settleId, string seat, Instant dueAt) =>
        $"settling {settleId}: acting for {seat} at {Clock(dueAt)} if {user} is still there";

    public string Proposal(string decisionId, PlacementMode mode, string to, Instant at) =>
        $"proposal {decisionId}: {Wording.Mode(mode)} to {to}, waiting for approval since {Clock(at)}";

    public string Empty(string user, Instant at, Instant? first) => first is { } f
        ? $"nothing was recorded for {user} at or before {Clock(at)}: the history starts at {Clock(f)}"
        : $"nothing is recorded for {user} yet";

    /// <summary>
    /// How it ended, in words. <paramref name="about"/> is the event the outcome rests on (the ending, the answer, the
    /// last step); <paramref name="then"/> what an approval was planned again into.
    /// </summary>
    public string Outcome(StoryOutcome o, IDomainEvent? about, IDomainEvent? then)
    {
        var after = o.SecondsAfterDecision is { } s ? Wording.Seconds(s) : "";
        return (o.Status, about) switch
        {
            ("suppressed", MoveSuppressed m) => $"Nothing was done: rule {m.Rule} held the move back.",
            ("waiting", _) => "Nothing was sent yet: the proposal waits for someone to approve or decline it.",
            ("declined", ProposalAnswered a) => $"Declined at {Clock(a.At)} ({a.EvidenceId}); nothing was done.",
            ("approved", ProposalAnswered a) => $"Approved at {Clock(a.At)} ({a.EvidenceId})" + then switch
            {
                PlacementDecided d => $"; the move was decided again then as {d.DecisionId} (`explain {d.DecisionId}` tells how it went)",
                MoveSuppressed m => $"; planned again then, it was held back by rule {m.Rule} ({m.DecisionId})",
                _ => "",
            } + ".",
            (_, MigrationCompleted c) => $"Done at {Clock(c.At)}: {EventText.Of(c)}, {after} after the decision.",
            (_, MigrationFailed f) => $"Failed at {Clock(f.At)}: {EventText.Of(f)}.",
            (_, VmSuspended v) => $"{(o.Status == "completed" ? "Done" : "Halfway")} at {Clock(v.At)}: {EventText.Of(v)}.",
            (_, SuspendFailed f) => $"Failed at {Clock(f.At)}: {EventText.Of(f)}.",
            (_, VmResumed r) => $"Done at {Clock(r.At)}: {EventText.Of(r)}, {after} after the decision.",
            (_, ResumeFailed f) => $"Failed at {Clock(f.At)}: {EventText.Of(f)}.",
            (_, DisplayAttached a) => $"Done at {Clock(a.At)}: {EventText.Of(a)}, {after} after the decision.",
            (_, DisplayAttachFailed f) => $"Failed at {Clock(f.At)}: {EventText.Of(f)}.",
            (_, MigrationProgressed p) => $"Still moving: {p.Percent?.ToString("0.#", CultureInfo.InvariantCulture) ?? "?"}% at {Clock(p.At)}, the last report recorded.",
            ("in_progress", { } last) => $"Not over yet: the last step recorded was at {Clock(last.At)}.",
            _ => "Nothing needed sending: the decision changed nothing an agent had to do.",
        };
    }

    public string Explanation(Explanation e)
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
            text.Append(CultureInfo.InvariantCulture, $"\nWhere {e.User} was: {where}, confidence {Wording.Percent(seat.Confidence)} (from {string.Join(", ", seat.EvidenceIds)}, {Clock(seat.At)}){previous}.\n");
        }

        text.Append('\n');
        switch (e.Verdict)
        {
            case "decided":
            case "proposed":
                text.Append(CultureInfo.InvariantCulture,
                    $"What was decided{(e.Verdict == "proposed" ? " (proposed, waiting for approval)" : "")}: {Wording.Move(e.Mode, e.Vm ?? "the VM", e.From, e.To ?? "?")}, by rule {e.Rule}.\n  Why: {e.Reason}.\n");
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
            text.Append(CultureInfo.InvariantCulture, $"  Expected to take {Wording.Seconds(estimate)}.\n");
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

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private LocalDateTime Local(Instant at) => at.InZone(zone).LocalDateTime;
}
