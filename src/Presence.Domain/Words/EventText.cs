using System.Globalization;
using Presence.Domain.Audit;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Domain.Words;

/// <summary>
/// Every event in words, in one place: one sentence per fact, the same in the demo, on the dashboard, in
/// `presence history` and `explain`, and in replay reports. Those keep only their layout (time, who, symbols,
/// columns) and which events they show. A sentence names no clock time of its own: each layout prints the event's
/// time in the house's zone, and the sentence reads the same in every zone.
/// </summary>
public static class EventText
{
    /// <summary>The event in words, or null for one that has none (an inventory: a list of numbers, not a fact to tell).</summary>
    public static string? Of(IDomainEvent @event) => @event switch
    {
        UserEnrolled u => $"enrolled with {u.Vm}, home {u.HomeHost} (policy {u.PolicyVersion})",
        HouseObserved => "the house changed",
        HouseChanged c => "the house changed: " + string.Join(", ", c.Hosts.Select(h => h.Name).Concat(c.Gone.Select(g => g + " gone"))),
        SignalRecorded s => Signal(s.Evidence),
        HostSignalRecorded h => Signal(h.Evidence),
        SeatChanged { Seat: { } seat } s when s.PreviousSeat == seat => $"sure now to sit at {seat}, {Wording.Percent(s.Confidence)} sure",
        SeatChanged { Seat: { } seat } s => $"sits at {seat}" + (s.PreviousSeat is { } was ? $" (was at {was})" : "") + $", {Wording.Percent(s.Confidence)} sure",
        SeatChanged { PreviousSeat: { } left } => $"left {left}, at no computer now",
        SeatChanged => "at no computer",
        PlacementDecided d => $"decided ({d.Rule}) to {Wording.Move(d.Mode, d.Vm, d.From, d.To)}: {d.Reason}",
        PlacementProposed p => $"proposed ({p.Rule}) to {Wording.Move(p.Mode, p.Vm, p.From, p.To)}, waiting for approve or decline of {p.DecisionId}: {p.Reason}",
        MoveSuppressed m => $"did not move {m.Vm}" + (m.Wanted is { } to ? $" to {to}" : "") + $" ({m.Rule}): {m.Reason}",
        ProposalAnswered a => $"proposal {a.DecisionId} {(a.Approved ? "approved" : "declined")}",
        SettlingStarted w => $"waits {Wording.Duration(w.HoldDown)} to be sure about {w.Seat} before a {Wording.Mode(w.Mode)}",
        SettlingLapsed l => $"wait over, nothing done: {l.Reason}",
        HoldChanged { Held: true } => "hold: the session stays where it is, whatever the seat says",
        HoldChanged => "hold released: the session follows the seat again",
        AutomationLevelChanged a => $"automation level set to {Wording.Snake(a.Level.ToString())} (was {Wording.Snake(a.Was.ToString())})",
        RequestRefused r => $"request {r.EvidenceId} refused: {r.Reason}",
        LeavingDetected l => $"leaving the house with {l.Host}: {l.Reason}",
        IncomingRequested i => $"{i.Target} is asked to get ready to receive {i.Vm} from {i.Source}"
            + (i.InhibitSleep ? ", and to stay awake until it has arrived (inhibit_sleep)" : ""),
        IncomingReady r => $"{r.Target} is ready to receive at {r.IncomingUri}",
        MigrationRequested m => $"{m.Source} is told to send {m.Vm} to {m.Target}",
        MigrationProgressed p => $"moving: {p.Percent?.ToString("0.#", CultureInfo.InvariantCulture) ?? "?"}% sent",
        MigrationCompleted c => Moved(c),
        MigrationFailed f => $"moving {f.Vm} to {f.Target} failed while {f.Phase}: {f.Reason}; {f.Vm} {(f.WhereaboutsUncertain ? "was last known on" : "still runs on")} {f.StillOn}",
        PhaseTimeoutScheduled t => $"{t.Phase} of {t.MoveId} may take {Wording.Duration(t.Window)}",
        CommandResent r => $"{Wording.Snake(r.Command.Kind.ToString())} sent again to {r.Command.Host}, same command id: {r.Reason}",
        DisplayAttachRequested { Reason: { } why } d => $"{d.Host} is asked to show {d.Vm}: {why}",
        DisplayAttachRequested d => $"{d.Host} is asked to show {d.Vm}",
        DisplayAttached d => $"{d.Host} shows {d.Vm}",
        DisplayDetachRequested d => $"{d.Host} is told to stop showing {d.Vm}: {d.Reason}",
        DisplayAttachFailed d => $"{d.Host} could not show {d.Vm}: {d.Reason}",
        SuspendRequested s => $"{s.Host} is told to freeze {s.Vm} into {s.File}" + (s.ResumeOn is { } on ? $", to wake on {on}" : ""),
        VmSuspended s => $"{s.Vm} frozen on {s.Host} into {s.File}" + (s.ResumeOn is { } on ? $", to wake on {on}" : ""),
        SuspendFailed f => $"freezing failed: {f.Reason}; {f.Vm} still runs on {f.Host}",
        ResumeRequested r => $"{r.Host} is told to wake {r.Vm} from {r.File}",
        VmResumed v => $"{v.Vm} woke on {v.Host}",
        ResumeFailed f => $"waking failed: {f.Reason}; {f.Vm} stays frozen",
        AgentReported a => Report(a.Report),
        SettlingWaitRanOut w => $"wait {w.SettleId} runs out",
        PhaseTimeoutRanOut t => $"{t.Phase} timeout of {t.MoveId} runs out",
        HostChangeNoticed h => $"{h.Host} changed",
        MaintenanceSwitched { On: true } m => "maintenance on" + (m.Reason is { } why ? $": {why}" : ""),
        MaintenanceSwitched => "maintenance off",
        AgentStatusReported { Online: false } => "agent offline",
        AgentStatusReported => "agent online",
        _ => null,
    };

    /// <summary>An agent's answer: "imac says ready to 7da87a68".</summary>
    public static string Report(AgentReport r) => $"{r.Host} says {Wording.Snake(r.State.ToString())} to {Wording.Id(r.CommandId)}";

    /// <summary>
    /// A signal in its sender's own words: "session on imac by alice (state=login, seat=console)". State first:
    /// PostgreSQL's jsonb stores keys shortest first, and the state is what happened.
    /// Relayed evidence says who relayed it and which entity: "room near imac by alice (room=office), from Home
    /// Assistant's sensor.alice_room, weak".
    /// </summary>
    public static string Signal(Evidence e)
    {
        var said = e.Details.Where(d => d.Key is not (EvidenceDetails.Origin.Source or EvidenceDetails.Origin.Entity or EvidenceDetails.Origin.Strength))
            .OrderBy(d => d.Key == "state" ? 0 : 1).Select(d => $"{d.Key}={d.Value}").ToList();
        var where = e.Host.Length == 0 ? "" : e.Kind == EvidenceKind.Room ? $" near {e.Host}" : $" on {e.Host}";
        return $"{Wording.Snake(e.Kind.ToString())}{where}" +
            (e.User is null ? "" : $" by {e.User}") +
            (said.Count == 0 ? "" : " (" + string.Join(", ", said) + ")") +
            (e.Detail(EvidenceDetails.Origin.Source) is not { } source ? ""
                : $", from {(source == EvidenceDetails.Origin.HomeAssistant ? "Home Assistant" : source)}"
                  + (e.Detail(EvidenceDetails.Origin.Entity) is { } entity ? $"'s {entity}" : "")
                  + (EvidenceStrength.Claimed(e) == Strength.Weak ? ", weak" : ""));
    }

    /// <summary>A command to an agent, under its wire name: "migrate to basement: send alice-desktop to imac at up to 1000 Mbit/s  (command 7da87a68…)".</summary>
    public static string Command(CommandToAgent c) => c.Kind switch
    {
        CommandKind.PrepareIncoming => $"prepare_incoming to {c.Host}: get ready to receive {c.Vm}",
        CommandKind.Migrate => $"migrate to {c.Host}: send {c.Vm} to {c.TargetHost}{(c.MaxBandwidthMbps is { } bw ? $" at up to {bw} Mbit/s" : "")}",
        CommandKind.AbortIncoming => $"abort_incoming to {c.Host}: stop waiting for {c.Vm}",
        CommandKind.Cancel => $"cancel to {c.Host}: stop {c.Of ?? "the command"} for {c.Vm}",
        CommandKind.Suspend => $"suspend to {c.Host}: freeze {c.Vm} into {c.To}",
        CommandKind.Resume => $"resume to {c.Host}: wake {c.Vm} from {c.From}",
        CommandKind.AttachDisplay => $"attach_display to {c.Host}: show {c.Vm}",
        CommandKind.DetachDisplay => $"detach_display to {c.Host}: stop showing {c.Vm}",
        _ => $"{Wording.Snake(c.Kind.ToString())} to {c.Host}",
    } + $"  (command {c.CommandId})";

    /// <summary>The one wording of a finished migration: "alice-desktop moved basement → imac in 74.2 s (paused 54 ms)".</summary>
    private static string Moved(MigrationCompleted c) =>
        $"{c.Vm} moved {c.Source} → {c.Target}"
        + (c.TotalTimeMs is { } total ? $" in {Wording.Milliseconds(total)}" : "")
        + (c.DowntimeMs is { } down ? $" (paused {Wording.Milliseconds(down)})" : "");
}
