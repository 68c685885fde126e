using System.Globalization;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Domain.Words;
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
        typeof(UserEnrolled), typeof(HouseObserved), typeof(HouseChanged), typeof(IncomingReady), typeof(MigrationRequested),
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
        if (@event is not IDomainEvent e)
        {
            return [Unknown(@event, recordedAt)];
        }

        switch (e)
        {
            case AgentReported or SettlingWaitRanOut or PhaseTimeoutRanOut or HostChangeNoticed:
                return []; // what the saga was asked; the lines for what it did say it better
            case IncomingRequested r:
                movesStarted[r.MigrationId] = r.At;
                return r.InhibitSleep ? [Said("⏾", r)] : [];
            case PlacementDecided d:
                lastSuppressed.Remove(d.User);
                return [Said("→", d), .. Rejected(d.Rejected, d.Reason)];
            case PlacementProposed p:
                return [Said("?", p), .. Rejected(p.Rejected, p.Reason)];
            case MoveSuppressed m when lastSuppressed.GetValueOrDefault(m.User) == (m.Rule, m.Wanted, m.Reason):
                return [Line(m.At, m.User, $"× still did not move {m.Vm} ({m.Rule}), for the same reason")];
            case MoveSuppressed m:
                lastSuppressed[m.User] = (m.Rule, m.Wanted, m.Reason);
                return [Said("×", m), .. Rejected(m.Rejected, m.Reason)];
            case MigrationCompleted c:
                return [Said("✓", c) + Simulated(c)];
            case VmSuspended v:
                frozenAt[v.Vm] = v.At;
                return [Said("❄", v)];
            case VmResumed v:
                return [Said("☀", v) + (frozenAt.Remove(v.Vm, out var since) ? $" after {Wording.Duration(v.At - since)} in shared storage" : "")];
            case InventoryReported i:
                return PowerChanged(i);
            case AgentStatusReported { Online: true }:
                return [];
            case var quiet when Silent.Contains(quiet.GetType()):
                return [];
            default:
                return [Said(Symbol(e), e)];
        }
    }

    /// <summary>The symbol that leads an event's line: what kind of thing happened, at a glance.</summary>
    private static string Symbol(IDomainEvent e) => e switch
    {
        SignalRecorded or HostSignalRecorded => "·",
        SeatChanged => "◦",
        MigrationFailed or DisplayAttachFailed or SuspendFailed or ResumeFailed or RequestRefused => "✗",
        DisplayAttached => "▣",
        SettlingStarted or SettlingLapsed => "⧗",
        ProposalAnswered { Approved: true } => "✓",
        ProposalAnswered => "×",
        HoldChanged { Held: true } => "⏸",
        HoldChanged => "▶",
        LeavingDetected => "⇥",
        CommandResent => "↻",
        MaintenanceSwitched { On: true } or AgentStatusReported => "⚠",
        MaintenanceSwitched => "",
        _ => "·",
    };

    /// <summary>The event's own words under the user (or, for a host's events, the host) it is about.</summary>
    private string Said(string symbol, IDomainEvent e)
    {
        var who = e switch
        {
            HostSignalRecorded h => h.Host,
            MaintenanceSwitched m => m.Host,
            AgentStatusReported a => a.Host,
            IUserEvent u => u.User,
            _ => "",
        };
        var text = EventText.Of(e) ?? Wording.Spaced(e.GetType().Name);
        return Line(e.At, who, symbol.Length == 0 ? text : $"{symbol} {text}");
    }

    /// <summary>Simulated agents report simulated times; say how long the audience actually waited.</summary>
    private string Simulated(MigrationCompleted c) =>
        simulatedSpeed != 1 && movesStarted.Remove(c.MigrationId, out var started)
            ? Invariant($", simulated at {simulatedSpeed:0.#}×: {Wording.Duration(c.At - started)} here")
            : "";

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

    /// <summary>Each host turned down, with its rule; a reason the decision already gave in full is not repeated.</summary>
    private static IEnumerable<string> Rejected(IReadOnlyList<RejectedAlternative> rejected, string decided) =>
        rejected.Select(r =>
        {
            var reason = r.Reason.StartsWith(r.Host + ":", StringComparison.Ordinal) ? r.Reason[(r.Host.Length + 1)..].TrimStart() : r.Reason;
            return decided.Contains(reason, StringComparison.Ordinal)
                ? $"{Indent}✗ {r.Host} ({r.Rule})"
                : $"{Indent}✗ {r.Host}: {reason} ({r.Rule})";
        });

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
        return Line(at, who, $"· {Wording.Spaced(type.Name)}" + (reason is null ? "" : $": {reason}"));
    }
}
