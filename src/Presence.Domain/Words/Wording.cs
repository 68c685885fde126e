using System.Globalization;
using System.Text.Json;
using NodaTime;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using static System.FormattableString;

namespace Presence.Domain.Words;

/// <summary>
/// The small words every text of Presence shares: durations, percentages, modes, moves, ids and names. The demo,
/// the dashboard, history, explain and replay all say these things, and say them only through here.
/// </summary>
public static class Wording
{
    /// <summary>A duration as people say it: 300 ms, 2 s, 2.5 s, 3 min 26 s, 10 min, 8 h 45 min.</summary>
    public static string Duration(Duration d)
    {
        if (d < NodaTime.Duration.FromSeconds(1))
        {
            return Invariant($"{d.TotalMilliseconds:0} ms");
        }

        if (d < NodaTime.Duration.FromSeconds(90))
        {
            return Invariant($"{d.TotalSeconds:0.#} s");
        }

        if (d < NodaTime.Duration.FromMinutes(90))
        {
            // A measured move of a few minutes keeps its seconds; a wait of whole minutes reads as just that.
            var seconds = (long)Math.Round(d.TotalSeconds);
            return seconds % 60 == 0 ? Invariant($"{seconds / 60} min") : Invariant($"{seconds / 60} min {seconds % 60} s");
        }

        var minutes = (long)Math.Round(d.TotalMinutes);
        return minutes % 60 == 0 ? Invariant($"{minutes / 60} h") : Invariant($"{minutes / 60} h {minutes % 60} min");
    }

    /// <summary>
    /// An estimate, as a decision's reason states it: whole seconds up to 90 s, then minutes to a tenth ("about
    /// 2.8 min"). Reasons are recorded and replayed, so this form stays as recorded histories spell it.
    /// </summary>
    public static string Estimate(Duration d) =>
        d.TotalSeconds < 90 ? Invariant($"{d.TotalSeconds:0} s") : Invariant($"{d.TotalMinutes:0.#} min");

    /// <summary>
    /// Memory to a tenth of a GiB: rounded down, so free memory never reads as more than it is, or up for a need, so
    /// "7.9 GiB free, needs 8 GiB" can never read as "8 GiB free, needs 8 GiB".
    /// </summary>
    public static string Memory(int mb, bool roundUp = false)
    {
        if (mb < 1024)
        {
            return Invariant($"{mb} MiB");
        }

        var tenths = roundUp ? (mb * 10L + 1023) / 1024 : mb * 10L / 1024;
        return Invariant($"{tenths / 10.0:0.#} GiB");
    }

    /// <summary>A time of day on the house's clock, as reasons and histories print it.</summary>
    public static string ClockTime(Instant at, string timeZone) =>
        at.InZone(DateTimeZoneProviders.Tzdb.GetZoneOrNull(timeZone) ?? DateTimeZone.Utc).ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Milliseconds(long ms) => Duration(NodaTime.Duration.FromMilliseconds(ms));

    public static string Seconds(double seconds) => Duration(NodaTime.Duration.FromSeconds(seconds));

    /// <summary>A share of one (a confidence) as a whole percentage: 0.75 is "75%".</summary>
    public static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>How a VM gets to a seat, as a noun: "live migration".</summary>
    public static string Mode(PlacementMode mode) => mode switch
    {
        PlacementMode.AttachDisplay => "display attach",
        PlacementMode.LiveMigration => "live migration",
        PlacementMode.SuspendResume => "suspend and resume",
        PlacementMode.Resume => "wake-up",
        _ => Snake(mode.ToString()),
    };

    /// <summary>How a user's session stands, with what it means for the VM.</summary>
    public static string Mode(SessionMode mode) => mode switch
    {
        SessionMode.ThinClient => "thin client (the VM runs elsewhere and is shown on the seat)",
        SessionMode.Local => "local (the VM runs on the seat)",
        SessionMode.Moving => "moving",
        SessionMode.Held => "held (stays put whatever the signals say)",
        SessionMode.Suspended => "suspended (frozen, running nowhere)",
        _ => Snake(mode.ToString()),
    };

    /// <summary>What a placement does to the VM, as an action: "move alice-desktop from basement to imac while it runs (live migration)".</summary>
    public static string Move(PlacementMode? mode, string vm, string? from, string to) => mode switch
    {
        PlacementMode.AttachDisplay => $"show {vm} on {to}'s screen" + (from is null || from == to ? "" : $" while it runs on {from}"),
        PlacementMode.LiveMigration => $"move {vm} from {from ?? "an unknown host"} to {to} while it runs (live migration)",
        PlacementMode.SuspendResume when to == from => $"freeze {vm} on {from} to shared storage, to wake where it is wanted next",
        PlacementMode.SuspendResume => $"freeze {vm} on {from ?? "its host"} and wake it on {to} (suspend and resume)",
        PlacementMode.Resume => $"wake the frozen {vm} on {to}",
        _ => $"put {vm} on {to}",
    };

    /// <summary>A long generated id cut to what a person compares by eye (the full one is in the store).</summary>
    public static string Id(string id) => id.Length > 8 ? id[..8] : id;

    /// <summary>
    /// A C# name as the rest of Presence spells names (JSON, MQTT, the API): PlacementDecided is placement_decided.
    /// The same naming policy the wire uses, so a name reads the same in a text and on the wire.
    /// </summary>
    public static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    /// <summary>A C# name in words: PlacementDecided is "placement decided".</summary>
    public static string Spaced(string name) => Snake(name).Replace('_', ' ');

    /// <summary>
    /// Show first, then move, in the one wording of it: "shown at once from basement; moving to imac, about 68 s".
    /// </summary>
    public static string ShownFirst(string from, string to, NodaTime.Duration estimate) =>
        $"shown at once from {from}; moving to {to}, about {Estimate(estimate)}";

    /// <summary>The seat switches from showing the VM over the network to the VM running on it.</summary>
    public static string SwitchedToLocal(string vm, string seat, string from) =>
        $"{vm} runs on {seat} now: its screen switches from showing it from {from} to the local display";
}
