using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Server.Demo;
using static System.FormattableString;

namespace Presence.Server.Dashboard;

/// <summary>
/// One line of a user's timeline: what was decided or happened, in words, with the rule and the ids that lead to
/// the full record (`presence explain`, the event store). <see cref="At"/> is the event's domain time.
/// </summary>
public sealed record TimelineEntry(Instant At, string Kind, string? Rule, string Text, string? DecisionId = null, string? MigrationId = null);

/// <summary>
/// The newest decisions and outcomes of one user (document id = user name), oldest first. Only the last
/// <see cref="Keep"/> are kept: the dashboard answers "what happened lately and why"; the stream keeps everything.
/// </summary>
public sealed record UserTimeline
{
    public const int Keep = 50;

    public required string Id { get; init; }
    public IReadOnlyList<TimelineEntry> Entries { get; init; } = [];

    /// <summary>How many entries were ever added: lets a page tell a changed timeline from an unchanged one cheaply.</summary>
    public long Version { get; init; }

    /// <summary>Every event that makes a line; the rest (progress, command hand-offs, evidence) is bookkeeping.</summary>
    public static IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(SeatChanged), typeof(PlacementDecided), typeof(PlacementProposed), typeof(ProposalAnswered), typeof(MoveSuppressed),
        typeof(SettlingStarted), typeof(SettlingLapsed), typeof(RequestRefused), typeof(LeavingDetected), typeof(HoldChanged),
        typeof(MigrationCompleted), typeof(MigrationFailed), typeof(DisplayAttached), typeof(DisplayAttachFailed),
        typeof(VmSuspended), typeof(SuspendFailed), typeof(VmResumed), typeof(ResumeFailed),
    ];

    public UserTimeline With(object @event) => Describe(@event) is { } entry
        ? this with { Entries = [.. Entries.Skip(Math.Max(0, Entries.Count - Keep + 1)), entry], Version = Version + 1 }
        : this;

    /// <summary>The line for an event, or null for one that is not part of the timeline.</summary>
    public static TimelineEntry? Describe(object @event) => @event switch
    {
        SeatChanged { Seat: { } seat } s => Entry(s, null,
            $"{s.User} sits at {seat}" + (s.PreviousSeat is { } was ? $" (was at {was})" : "") + Invariant($", {s.Confidence * 100:0} % sure")),
        SeatChanged s => Entry(s, null, s.PreviousSeat is { } left ? $"{s.User} left {left}" : $"{s.User} sits nowhere"),
        PlacementDecided d => Entry(d, d.Rule, $"Decided to {Action(d.Mode, d.Vm, d.From, d.To)}: {d.Reason}", d.DecisionId),
        PlacementProposed p => Entry(p, p.Rule,
            $"Proposes to {Action(p.Mode, p.Vm, p.From, p.To)}, waiting for approval: {p.Reason}", p.DecisionId),
        ProposalAnswered a => Entry(a, null, $"Proposal {a.DecisionId} {(a.Approved ? "approved" : "declined")}", a.DecisionId),
        MoveSuppressed m => Entry(m, m.Rule,
            $"Did not move {m.Vm}" + (m.Wanted is { } to ? $" to {to}" : "") + $": {m.Reason}", m.DecisionId),
        SettlingStarted w => Entry(w, null,
            $"Waits {DemoLines.Span(w.HoldDown)} to be sure {w.User} stays at {w.Seat} before {Intent(w.Mode, w.Seat)}"),
        SettlingLapsed l => Entry(l, null, $"Stopped waiting, nothing done: {l.Reason}"),
        RequestRefused r => Entry(r, null, $"Refused request {r.EvidenceId}: {r.Reason}"),
        LeavingDetected l => Entry(l, null, $"Leaving the house with {l.Host}: {l.Reason}"),
        HoldChanged { Held: true } h => Entry(h, null, "Held: the session stays where it is, whatever the seat says"),
        HoldChanged h => Entry(h, null, "Hold released: the session follows the seat again"),
        MigrationCompleted c => Entry(c, null, Moved(c), migration: c.MigrationId),
        MigrationFailed f => Entry(f, null,
            $"Move of {f.Vm} to {f.Target} failed while {f.Phase}: {f.Reason}; it still runs on {f.StillOn}", migration: f.MigrationId),
        DisplayAttached a => Entry(a, null, $"{a.Host} shows {a.Vm}"),
        DisplayAttachFailed a => Entry(a, null, $"{a.Host} could not show {a.Vm}: {a.Reason}"),
        VmSuspended v => Entry(v, null,
            $"{v.Vm} frozen on {v.Host}" + (v.ResumeOn is { } on ? $", to wake on {on}" : ""), migration: v.OperationId),
        SuspendFailed f => Entry(f, null, $"Freezing {f.Vm} failed: {f.Reason}; it still runs on {f.Host}", migration: f.OperationId),
        VmResumed v => Entry(v, null, $"{v.Vm} woke on {v.Host}", migration: v.OperationId),
        ResumeFailed f => Entry(f, null, $"Waking {f.Vm} on {f.Host} failed: {f.Reason}; it stays frozen", migration: f.OperationId),
        _ => null,
    };

    private static TimelineEntry Entry(IDomainEvent e, string? rule, string text, string? decision = null, string? migration = null) =>
        new(e.At, Kind(e.GetType().Name), rule, text, decision, migration);

    private static string Action(PlacementMode mode, string vm, string? from, string to) => mode switch
    {
        PlacementMode.AttachDisplay => $"show {vm} on {to}" + (from is null || from == to ? "" : $" (it runs on {from})"),
        PlacementMode.LiveMigration => $"move {vm} from {from ?? "?"} to {to} (live migration)",
        PlacementMode.SuspendResume => $"freeze {vm} on {from ?? "?"} and wake it on {to}",
        PlacementMode.Resume => $"wake {vm} on {to}",
        _ => $"bring {vm} to {to}",
    };

    private static string Intent(PlacementMode mode, string seat) => mode switch
    {
        PlacementMode.AttachDisplay => $"showing the VM on {seat}",
        PlacementMode.LiveMigration => $"moving the VM to {seat}",
        PlacementMode.SuspendResume => $"freezing the VM for {seat}",
        _ => $"waking the VM on {seat}",
    };

    private static string Moved(MigrationCompleted c)
    {
        var text = $"{c.Vm} now runs on {c.Target} (moved from {c.Source}";
        if (c.TotalTimeMs is { } total)
        {
            text += Invariant($" in {DemoLines.Span(Duration.FromMilliseconds(total))}");
        }

        if (c.DowntimeMs is { } downtime)
        {
            text += Invariant($", {downtime} ms paused");
        }

        return text + ")";
    }

    /// <summary>PlacementDecided → placement_decided, as the rest of the JSON API spells names.</summary>
    private static string Kind(string typeName) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(typeName);
}
