using System.Globalization;
using System.Text;
using NodaTime;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using static System.FormattableString;

namespace Presence.Server.Demo;

/// <summary>
/// Turns stored events into the demo's lines: time in the house's zone, who it is about, what happened and why.
/// Only what an event records is printed; bookkeeping events (progress, inventories, command hand-offs) print
/// nothing. It remembers when each move started, to say how long it took on the wall clock.
/// </summary>
public sealed class DemoLines(DateTimeZone zone, double simulatedSpeed = 1)
{
    private const int WhoWidth = 8;
    private static readonly string Indent = new(' ', "HH:mm:ss".Length + 2 + WhoWidth + 2 + 2);

    private static readonly HashSet<Type> Silent =
    [
        typeof(UserEnrolled), typeof(HouseObserved), typeof(IncomingReady), typeof(MigrationRequested),
        typeof(MigrationProgressed), typeof(DisplayAttachRequested), typeof(SuspendRequested), typeof(ResumeRequested),
        typeof(PhaseTimeoutScheduled),
    ];

    private readonly Dictionary<string, Instant> movesStarted = [];
    private readonly Dictionary<string, Instant> frozenAt = [];
    private readonly Dictionary<string, (bool OnBattery, int? Percent)> power = [];
    private readonly Dictionary<string, (string Rule, string? Wanted, string Reason)> lastSuppressed = [];

    /// <param name="recordedAt">When the store took the event; used for events that carry no time of their own.</param>
    public IReadOnlyList<string> For(object @event, Instant recordedAt)
    {
        switch (@event)
        {
            case SignalRecorded s:
                return [Line(s.At, s.User, "· " + Heard(s.Evidence))];
            case HostSignalRecorded h:
                return [Line(h.At, h.Host, "· " + Heard(h.Evidence))];
            case AgentReported or SettlingWaitRanOut or PhaseTimeoutRanOut or HostChangeNoticed:
                return []; // what the saga was asked; the lines for what it did say it better
            case SeatChanged { Seat: { } seat } s:
                return [Line(s.At, s.User, $"◦ seat → {seat}" + (s.PreviousSeat is { } was ? $" (was {was})" : ""))];
            case SeatChanged s:
                return [Line(s.At, s.User, $"◦ seat → none (left {s.PreviousSeat})")];
            case PlacementDecided d:
                lastSuppressed.Remove(d.User);
                return [Line(d.At, d.User, $"→ decided ({d.Rule}): {d.Reason}"), .. Rejected(d.Rejected, d.Reason)];
            case MoveSuppressed m when lastSuppressed.GetValueOrDefault(m.User) == (m.Rule, m.Wanted, m.Reason):
                return [Line(m.At, m.User, $"× suppressed again ({m.Rule}), for the same reason")];
            case MoveSuppressed m:
                lastSuppressed[m.User] = (m.Rule, m.Wanted, m.Reason);
                return [Line(m.At, m.User, $"× suppressed ({m.Rule}): {m.Reason}"), .. Rejected(m.Rejected, m.Reason)];
            case IncomingRequested { InhibitSleep: true } r:
                movesStarted[r.MigrationId] = r.At;
                return [Line(r.At, r.User, $"⏾ {r.Target} is told to stay awake until {r.Vm} has arrived (inhibit_sleep)")];
            case IncomingRequested r:
                movesStarted[r.MigrationId] = r.At;
                return [];
            case MigrationCompleted c:
                return [Line(c.At, c.User, Moved(c))];
            case MigrationFailed f:
                return [Line(f.At, f.User, $"✗ move {f.StillOn} → {f.Target} failed ({f.Phase}): {f.Reason}; {f.Vm} still runs on {f.StillOn}")];
            case DisplayAttached a:
                return [Line(a.At, a.User, $"▣ {a.Host} shows {a.Vm}")];
            case DisplayAttachFailed a:
                return [Line(a.At, a.User, $"✗ {a.Host} could not show {a.Vm}: {a.Reason}")];
            case SettlingStarted w:
                return [Line(w.At, w.User, $"⧗ waits {Span(w.HoldDown)} before {Action(w.Mode, w.Seat)} (hold-down until {Time(w.DueAt)})")];
            case SettlingLapsed l:
                return [Line(l.At, l.User, $"⧗ hold-down over, nothing done: {l.Reason}")];
            case PlacementProposed p:
                return [Line(p.At, p.User, $"? proposed ({p.Rule}), waiting for approve or decline of {p.DecisionId}: {p.Reason}"), .. Rejected(p.Rejected, p.Reason)];
            case ProposalAnswered { Approved: true } a:
                return [Line(a.At, a.User, $"✓ {a.DecisionId} approved")];
            case ProposalAnswered a:
                return [Line(a.At, a.User, $"× {a.DecisionId} declined")];
            case HoldChanged { Held: true } h:
                return [Line(h.At, h.User, "⏸ hold: the session stays where it is, whatever the seat says")];
            case HoldChanged h:
                return [Line(h.At, h.User, "▶ hold released: the session follows the seat again")];
            case RequestRefused r:
                return [Line(r.At, r.User, $"✗ request {r.EvidenceId} refused: {r.Reason}")];
            case LeavingDetected l:
                return [Line(l.At, l.User, $"⇥ leaving the house with {l.Host}: {l.Reason}")];
            case VmSuspended v:
                frozenAt[v.Vm] = v.At;
                return [Line(v.At, v.User, $"❄ {v.Vm} frozen on {v.Host} into {v.File}" + (v.ResumeOn is { } on ? $", to wake on {on}" : ""))];
            case SuspendFailed f:
                return [Line(f.At, f.User, $"✗ {f.Reason}; {f.Vm} still runs on {f.Host}")];
            case VmResumed v:
                var slept = frozenAt.Remove(v.Vm, out var since) ? $" after {Span(v.At - since)} in shared storage" : "";
                return [Line(v.At, v.User, $"☀ {v.Vm} woke on {v.Host}{slept}")];
            case ResumeFailed f:
                return [Line(f.At, f.User, $"✗ {f.Reason}; {f.Vm} stays frozen")];
            case CommandResent r:
                return [Line(r.At, r.User, $"↻ {r.Reason}: {Presence.Contracts.Wire.ContractJson.WireName(r.Command.Kind)} sent again to {r.Command.Host}, same command id")];
            case InventoryReported i:
                return PowerChanged(i);
            case MaintenanceSwitched { On: true } m:
                return [Line(m.At, m.Host, "⚠ maintenance on" + (m.Reason is { } why ? $": {why}" : ""))];
            case MaintenanceSwitched m:
                return [Line(m.At, m.Host, "maintenance off")];
            case AgentStatusReported { Online: false } s:
                return [Line(s.At, s.Host, "⚠ agent offline")];
            case AgentStatusReported:
                return [];
            case var e when Silent.Contains(e.GetType()):
                return [];
            default:
                return [Unknown(@event, recordedAt)];
        }
    }

    /// <summary>A duration as people say it: 300 ms, 2 s, 2.5 s, 10 min, 8 h 45 min.</summary>
    public static string Span(Duration d)
    {
        if (d < Duration.FromSeconds(1))
        {
            return Invariant($"{d.TotalMilliseconds:0} ms");
        }

        if (d < Duration.FromSeconds(90))
        {
            return Invariant($"{d.TotalSeconds:0.#} s");
        }

        if (d < Duration.FromMinutes(90))
        {
            return Invariant($"{Math.Round(d.TotalMinutes):0} min");
        }

        var minutes = (long)Math.Round(d.TotalMinutes);
        return minutes % 60 == 0 ? Invariant($"{minutes / 60} h") : Invariant($"{minutes / 60} h {minutes % 60} min");
    }

    private static string Action(PlacementMode mode, string seat) => mode switch
    {
        PlacementMode.AttachDisplay => $"showing it on {seat}",
        PlacementMode.LiveMigration => $"a live migration to {seat}",
        PlacementMode.SuspendResume => $"freezing it for {seat}",
        PlacementMode.Resume => $"waking it on {seat}",
        _ => $"acting on {seat}",
    };

    /// <summary>An agent's inventory is bookkeeping, except when its power supply changed: that decides about laptops.</summary>
    private IReadOnlyList<string> PowerChanged(InventoryReported i)
    {
        var now = (i.OnBattery, i.BatteryPercent);
        var changed = power.TryGetValue(i.Host, out var before) && before != now;
        power[i.Host] = now;
        if (!changed)
        {
            return [];
        }

        var charge = i.BatteryPercent is { } percent ? Invariant($", {percent} %") : "";
        return [Line(i.At, i.Host, (i.OnBattery ? "▪ agent reports: on battery" : "▪ agent reports: on mains") + charge)];
    }

    public string Time(Instant at) => at.InZone(zone).ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private string Line(Instant at, string who, string text) => $"{Time(at)}  {who,-WhoWidth}  {text}";

    private static string Heard(Evidence e)
    {
        // PostgreSQL's jsonb stores keys shortest first; "state" first reads like what happened.
        var details = e.Details.Count == 0 ? "" : ": " + string.Join(", ", e.Details.OrderBy(d => d.Key == "state" ? 0 : 1).Select(d => $"{d.Key}={d.Value}"));
        return $"{e.Kind.ToString().ToLowerInvariant()} on {e.Host}{details}";
    }

    /// <summary>Each host turned down, with its rule; a reason the decision already gave in full is not repeated.</summary>
    private static IEnumerable<string> Rejected(IReadOnlyList<RejectedAlternative> rejected, string decided) =>
        rejected.Select(r =>
        {
            var reason = r.Reason.StartsWith(r.Host + ":", StringComparison.Ordinal) ? r.Reason[(r.Host.Length + 1)..].TrimStart() : r.Reason;
            return decided.Contains(reason, StringComparison.Ordinal)
                ? $"{Indent}✗ {r.Host} ({r.Rule})"
                : $"{Indent}✗ {r.Host}: {reason} ({r.Rule})";
        });

    private string Moved(MigrationCompleted c)
    {
        var text = new StringBuilder($"✓ moved {c.Source} → {c.Target}");
        if (c.TotalTimeMs is { } total)
        {
            text.Append(Invariant($" in {total / 1000.0:0.0} s"));
        }

        if (c.DowntimeMs is { } downtime)
        {
            text.Append(Invariant($" (downtime {downtime} ms)"));
        }

        // Simulated agents report simulated times; say how long the audience actually waited.
        if (simulatedSpeed != 1 && movesStarted.Remove(c.MigrationId, out var started))
        {
            text.Append(Invariant($", simulated at {simulatedSpeed:0.#}×: {(c.At - started).TotalSeconds:0.0} s here"));
        }

        return text.ToString();
    }

    /// <summary>
    /// The decider gains events while the demo is written; one it does not know yet is shown by name (and its
    /// reason, if it has one) rather than hidden.
    /// </summary>
    private string Unknown(object e, Instant recordedAt)
    {
        var type = e.GetType();
        string? Text(string property) => type.GetProperty(property)?.GetValue(e) as string;
        var at = type.GetProperty("At")?.GetValue(e) is Instant own ? own : recordedAt;
        var who = Text("User") ?? Text("Host") ?? "";
        var reason = Text("Reason");
        return Line(at, who, $"· {Words(type.Name)}" + (reason is null ? "" : $": {reason}"));
    }

    private static string Words(string name)
    {
        var words = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && words.Length > 0)
            {
                words.Append(' ');
            }

            words.Append(char.ToLowerInvariant(c));
        }

        return words.ToString();
    }
}
