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
        typeof(MigrationProgressed), typeof(DisplayAttachRequested), typeof(InventoryReported),
    ];

    private readonly Dictionary<string, Instant> movesStarted = [];

    /// <param name="recordedAt">When the store took the event; used for events that carry no time of their own.</param>
    public IReadOnlyList<string> For(object @event, Instant recordedAt)
    {
        switch (@event)
        {
            case SignalRecorded s:
                return [Line(s.At, s.User, "· " + Heard(s.Evidence))];
            case HostSignalRecorded h:
                return [Line(h.At, h.Host, "· " + Heard(h.Evidence))];
            case SeatChanged { Seat: { } seat } s:
                return [Line(s.At, s.User, $"◦ seat → {seat}" + (s.PreviousSeat is { } was ? $" (was {was})" : ""))];
            case SeatChanged s:
                return [Line(s.At, s.User, $"◦ seat → none (left {s.PreviousSeat})")];
            case PlacementDecided d:
                return [Line(d.At, d.User, $"→ decided ({d.Rule}): {d.Reason}"), .. Rejected(d.Rejected)];
            case MoveSuppressed m:
                return [Line(m.At, m.User, $"× suppressed ({m.Rule}): {m.Reason}"), .. Rejected(m.Rejected)];
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

    public string Time(Instant at) => at.InZone(zone).ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private string Line(Instant at, string who, string text) => $"{Time(at)}  {who,-WhoWidth}  {text}";

    private static string Heard(Evidence e)
    {
        // PostgreSQL's jsonb stores keys shortest first; "state" first reads like what happened.
        var details = e.Details.Count == 0 ? "" : ": " + string.Join(", ", e.Details.OrderBy(d => d.Key == "state" ? 0 : 1).Select(d => $"{d.Key}={d.Value}"));
        return $"{e.Kind.ToString().ToLowerInvariant()} on {e.Host}{details}";
    }

    private static IEnumerable<string> Rejected(IReadOnlyList<RejectedAlternative> rejected) =>
        rejected.Select(r => $"{Indent}✗ {(r.Reason.StartsWith(r.Host + ":", StringComparison.Ordinal) ? r.Reason : $"{r.Host}: {r.Reason}")} ({r.Rule})");

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
