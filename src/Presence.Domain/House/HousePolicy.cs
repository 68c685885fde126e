using System.Security.Cryptography;
using System.Text;
using NodaTime;

namespace Presence.Domain.House;

public enum HostRole { Server, Desktop, Laptop }

/// <summary>How a session follows its owner when the VM may not or should not move.</summary>
public enum PreferredMode
{
    /// <summary>Live-migrate the VM onto the seat the user sits at.</summary>
    Local,

    /// <summary>Leave the VM where it runs and show it on the seat.</summary>
    ThinClient,
}

public sealed record HostSpec(string Name, HostRole Role, bool CanRunVms, int LinkMbps);

/// <summary>How much the decider may do on its own for a user.</summary>
public enum AutomationLevel
{
    /// <summary>Decide and record, never act: the history shows what would have happened.</summary>
    Manual,

    /// <summary>Decide, then wait for an `approve` or `decline` request naming the decision.</summary>
    Recommend,

    /// <summary>Decide and act.</summary>
    Automatic,
}

public sealed record UserSpec(
    string Name,
    string Vm,
    string HomeHost,
    IReadOnlyList<string> AllowedHosts,
    PreferredMode PreferredMode = PreferredMode.Local,
    AutomationLevel Automation = AutomationLevel.Automatic);

/// <summary>A VM; <see cref="LatencySensitive"/> ones (music, games) run on the seat rather than over the network.</summary>
public sealed record VmSpec(string Name, int MemoryMb, string Owner, string? DisplayUri = null, bool LatencySensitive = false);

/// <summary>How long evidence must hold before acting, by what the action costs: a display is cheap, a move dear.</summary>
public sealed record HoldDowns(Duration AttachDisplay, Duration LiveMigration, Duration SuspendResume)
{
    public static HoldDowns None { get; } = new(Duration.Zero, Duration.Zero, Duration.Zero);
}

/// <summary>Hours, in the house's time zone, when VMs are not moved across the network unless someone must.</summary>
public sealed record QuietHours(LocalTime Start, LocalTime End)
{
    public bool Contains(LocalTime time) =>
        Start <= End ? time >= Start && time < End : time >= Start || time < End;

    /// <summary>Invariant: ':' in a NodaTime pattern is the culture's time separator ('.' in Finnish).</summary>
    public override string ToString() => FormattableString.Invariant($"{Start:HH:mm}–{End:HH:mm}");
}

/// <summary>
/// The settings of the soft rules. Every default here switches a rule off, so a policy states what it wants;
/// the server's house file supplies the house's real values.
/// </summary>
public sealed record PolicySettings
{
    public string TimeZone { get; init; } = "UTC";
    public HoldDowns HoldDown { get; init; } = HoldDowns.None;

    /// <summary>After a move, no other move (except one a person asks for or one that must happen) for this long.</summary>
    public Duration Cooldown { get; init; } = Duration.Zero;

    public QuietHours? QuietHours { get; init; }

    /// <summary>A laptop on battery below this takes no incoming VM.</summary>
    public int LaptopMinBatteryPercent { get; init; }

    /// <summary>
    /// Locking the screen at a seat also takes the desktop off it (detach_display), as logging out always does. Off by
    /// default: a lock is often a short absence, and the desktop behind a lock screen shows nothing.
    /// </summary>
    public bool DetachOnLock { get; init; }

    /// <summary>Idle this long at the seat and the user counts as gone from it.</summary>
    public Duration IdleAway { get; init; } = Duration.Zero;

    /// <summary>
    /// Leaving this Wi-Fi on a laptop means leaving the house. Several names, separated by commas, when the house's
    /// network goes by more than one (a 5 GHz band or a mesh point with a name of its own, a guest network).
    /// </summary>
    public string? HomeSsid { get; init; }

    /// <summary>The names in <see cref="HomeSsid"/>.</summary>
    public IReadOnlyList<string> HomeNetworks =>
        HomeSsid?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>How soon after unplugging a closed lid means "leaving with the laptop".</summary>
    public Duration LeaveWindow { get; init; } = Duration.FromMinutes(10);

    /// <summary>Where suspended VMs' state files go; every host must reach it.</summary>
    public string SharedStorage { get; init; } = "/var/lib/presence/suspended";

    /// <summary>Running a VM on the seat must be worth at least this much (see the README's benefit points) to move it.</summary>
    public double MinimumBenefit { get; init; }

    /// <summary>Estimated migrations longer than this count against moving (slow links, big VMs).</summary>
    public Duration SlowMigration { get; init; } = Duration.FromMinutes(5);

    /// <summary>How long the target may take to answer <c>prepare_incoming</c> with <c>ready</c>; zero waits forever.</summary>
    public Duration PrepareTimeout { get; init; } = Duration.Zero;

    /// <summary>
    /// The slack of the migrate phase's timeout, which is three times the move's estimate plus this; zero waits forever.
    /// </summary>
    public Duration MigrationTimeout { get; init; } = Duration.Zero;

    /// <summary>How long freezing a VM into its state file may take; zero waits forever.</summary>
    public Duration SuspendTimeout { get; init; } = Duration.Zero;

    /// <summary>How long waking a VM from its state file may take; zero waits forever.</summary>
    public Duration ResumeTimeout { get; init; } = Duration.Zero;

    /// <summary>How long a seat may take to show the VM; zero waits forever.</summary>
    public Duration DisplayTimeout { get; init; } = Duration.Zero;

    /// <summary>
    /// Migration progress is recorded at most once per this much time unless it gained five points; zero records each
    /// new whole percent.
    /// </summary>
    public Duration ProgressInterval { get; init; } = Duration.Zero;
}

/// <summary>Tunables of the migration saga; durations are NodaTime values, never bare numbers.</summary>
public sealed record MigrationSettings(int DowntimeLimitMs = 300, int MaxBandwidthMbps = 0)
{
    /// <summary>The bandwidth cap sent to the source agent: the slower link unless a cap is configured.</summary>
    public int BandwidthFor(int sourceLinkMbps, int targetLinkMbps)
    {
        var link = Math.Max(1, Math.Min(sourceLinkMbps, targetLinkMbps));
        return MaxBandwidthMbps > 0 ? Math.Min(link, MaxBandwidthMbps) : link;
    }
}

/// <summary>
/// The house as the decider sees it: who and what exists, and the settings of every rule. It is an argument of
/// every decision, and each decision records <see cref="Version"/> so a replay can tell which settings it ran under.
/// </summary>
public sealed record HousePolicy
{
    public required IReadOnlyList<HostSpec> Hosts { get; init; }
    public required IReadOnlyList<UserSpec> Users { get; init; }
    public required IReadOnlyList<VmSpec> Vms { get; init; }
    public MigrationSettings Migration { get; init; } = new();
    public PolicySettings Settings { get; init; } = new();

    /// <summary>A short content hash: the same settings always give the same version.</summary>
    /// <remarks>
    /// Kept per instance beside it, never in a field: a record's <c>with</c> copies private fields (a cached version
    /// would follow a copy whose settings changed), and a field would take part in the record's equality. Every
    /// decision records the version, and hashing the whole policy each time was a fifth of deciding a day again.
    /// </remarks>
    public string Version => Versions.GetValue(this, static policy => policy.ComputeVersion());

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HousePolicy, string> Versions = new();

    public HostSpec? Host(string name) =>
        Hosts.Count <= Searched ? ByName.Find(Hosts, name, static h => h.Name) : Index.Hosts.GetValueOrDefault(name);

    public UserSpec? User(string name) =>
        Users.Count <= Searched ? ByName.Find(Users, name, static u => u.Name) : Index.Users.GetValueOrDefault(name);

    public VmSpec? Vm(string name) =>
        Vms.Count <= Searched ? ByName.Find(Vms, name, static v => v.Name) : Index.Vms.GetValueOrDefault(name);

    public UserSpec? OwnerOfVm(string vm) => Vm(vm) is { } spec ? User(spec.Owner) : null;

    /// <summary>May this user sit at (and have a VM on) this host? Signals that break this are rejected at the door.</summary>
    public bool MayUse(string user, string host) => User(user) is { } spec
        && (spec.AllowedHosts.Count <= Searched ? spec.AllowedHosts.Contains(host) : Index.AllowedHosts[spec.Name].Contains(host));

    /// <summary>
    /// Up to this many, a list is searched: a house's few names are compared sooner than a name is hashed and the
    /// lookups found beside the policy (so are a house's few hosts diffed sooner than a kept answer is found beside it:
    /// <see cref="HouseSeen.Diff"/>).
    /// </summary>
    internal const int Searched = 16;

    /// <summary>
    /// Lookups by name, made once per policy and kept beside it as <see cref="Version"/> is. Each signal asks for its
    /// user and host several times: searched through the lists, a 500-seat office's server spent 2.7 % of its CPU in a
    /// burst in <c>ByName.Find</c> alone (perf, self time; its string compares besides), and 0.6 % more in
    /// <see cref="MayUse"/> searching the 501 computers each person was allowed at.
    /// </summary>
    private Lookups Index => Indexes.GetValue(this, static policy => new Lookups(policy));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HousePolicy, Lookups> Indexes = new();

    /// <summary>
    /// The first of each name wins, as a search through the list found it (validation refuses duplicates).
    /// </summary>
    private sealed class Lookups
    {
        public Lookups(HousePolicy policy)
        {
            Hosts = First(policy.Hosts, h => h.Name);
            Users = First(policy.Users, u => u.Name);
            Vms = First(policy.Vms, v => v.Name);
            AllowedHosts = Users.ToDictionary(p => p.Key, p => p.Value.AllowedHosts.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        }

        public Dictionary<string, HostSpec> Hosts { get; }

        public Dictionary<string, UserSpec> Users { get; }

        public Dictionary<string, VmSpec> Vms { get; }

        public Dictionary<string, HashSet<string>> AllowedHosts { get; }

        private static Dictionary<string, T> First<T>(IReadOnlyList<T> items, Func<T, string> nameOf)
        {
            var byName = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
            foreach (var item in items)
            {
                byName.TryAdd(nameOf(item), item);
            }

            return byName;
        }
    }

    private string ComputeVersion()
    {
        var text = new StringBuilder();
        foreach (var h in Hosts.OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append($"h|{h.Name}|{h.Role}|{h.CanRunVms}|{h.LinkMbps}\n");
        }

        foreach (var u in Users.OrderBy(u => u.Name, StringComparer.Ordinal))
        {
            text.Append($"u|{u.Name}|{u.Vm}|{u.HomeHost}|{string.Join(',', u.AllowedHosts)}|{u.PreferredMode}|{u.Automation}\n");
        }

        foreach (var v in Vms.OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            text.Append($"v|{v.Name}|{v.MemoryMb}|{v.Owner}|{v.DisplayUri}|{v.LatencySensitive}\n");
        }

        text.Append($"m|{Migration.DowntimeLimitMs}|{Migration.MaxBandwidthMbps}\n");
        var p = Settings;
        text.Append(FormattableString.Invariant(
            $"s|{p.TimeZone}|{p.HoldDown}|{p.Cooldown}|{p.QuietHours}|{p.LaptopMinBatteryPercent}|{p.IdleAway}|{p.HomeSsid}|{p.LeaveWindow}|{p.SharedStorage}|{p.MinimumBenefit}|{p.SlowMigration}\n"));

        // Only when set, so the versions of policies from before these settings existed stay as they were.
        if (p.PrepareTimeout != Duration.Zero || p.MigrationTimeout != Duration.Zero || p.SuspendTimeout != Duration.Zero
            || p.ResumeTimeout != Duration.Zero || p.DisplayTimeout != Duration.Zero || p.ProgressInterval != Duration.Zero)
        {
            text.Append(FormattableString.Invariant(
                $"t|{p.PrepareTimeout}|{p.MigrationTimeout}|{p.SuspendTimeout}|{p.ResumeTimeout}|{p.DisplayTimeout}|{p.ProgressInterval}\n"));
        }

        if (p.DetachOnLock)
        {
            text.Append("d|lock\n");
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return "p-" + Convert.ToHexStringLower(hash)[..12];
    }
}
