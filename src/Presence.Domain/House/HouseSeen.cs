using System.Globalization;

namespace Presence.Domain.House;

/// <summary>
/// What a user's saga keeps of the house instead of every host's facts: a fingerprint per host, enough to tell which
/// hosts the next house changed (so the stream records only those), and the two facts the saga folds in between
/// decisions (<see cref="Users.UserDecider.Evolve"/>): which agents are offline and where the user's own VM runs. Its
/// lists and keys are kept in name order, so the same house is kept the same way whichever way it arrived.
/// </summary>
public sealed record HouseSeen
{
    public static HouseSeen Empty { get; } = new();

    /// <summary>Each host of the house, by name, with the fingerprint of its facts (<see cref="PrintOf"/>).</summary>
    public IReadOnlyDictionary<string, string> Prints { get; init; } = new Dictionary<string, string>();

    /// <summary>The hosts whose agent is not online.</summary>
    public IReadOnlyList<string> Offline { get; init; } = [];

    /// <summary>
    /// The user's VM, when some agent reports it running (or paused), with the hosts that report it. Only that VM: the
    /// saga folds no other VM's whereabouts, and keeping every VM cost each saga of a 500-seat office half its size,
    /// read and rewritten with each of that user's decisions (issue 11 §6). A saga stored before kept every VM; the
    /// others are never read, and leave at its next change of standing.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Running { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>As <see cref="HostFacts.AgentOnline"/>: a host not in the house has no agent online.</summary>
    public bool AgentOnline(string host) => Prints.ContainsKey(host) && !Offline.Contains(host);

    /// <summary>As <see cref="HostFacts.Runs"/> of that host.</summary>
    public bool Runs(string host, string vm) => HostsRunning(vm).Contains(host);

    public IReadOnlyList<string> HostsRunning(string vm) => Running.TryGetValue(vm, out var hosts) ? hosts : [];

    public static HouseSeen Of(IEnumerable<HostFacts> hosts, string? vm) => Empty.With(hosts, [], vm);

    /// <summary>What is kept for another VM (the user enrolled with a new one): nothing yet of where it runs.</summary>
    public HouseSeen For(string? vm) => this with
    {
        Running = vm is not null && Running.TryGetValue(vm, out var hosts)
            ? new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [vm] = hosts }
            : new Dictionary<string, IReadOnlyList<string>>(),
    };

    /// <summary>The hosts of <paramref name="house"/> whose facts differ from what was seen, and the hosts no longer in it.</summary>
    public (IReadOnlyList<HostFacts> Changed, IReadOnlyList<string> Gone) Diff(HouseSnapshot house)
    {
        var kept = house.KeepsAnswers;
        if (kept && Matched.TryGetValue(this, out var matched) && ReferenceEquals(matched, house))
        {
            return ([], []);
        }

        var diff = Diff(house.Hosts);
        if (kept && diff.Changed.Count == 0 && diff.Gone.Count == 0)
        {
            Matched.AddOrUpdate(this, house);
        }

        return diff;
    }

    /// <summary>
    /// The snapshot each seen house (both immutable) was last found to hold in full, beside it as
    /// <see cref="Printed"/> is: a node hands every decision the snapshot it keeps until a host changes, and each
    /// saga keeps its seen house until then too, so diffing them again, host by host, found nothing again. That was a
    /// tenth of a 500-seat office's server CPU (every person may sit at any of its 501 computers). Only for a house of
    /// more than <see cref="HousePolicy.Searched"/> hosts: kept for every house, deciding a four-host year again went
    /// from 0.82–0.99 to 0.69–0.73 million events/s (a replay's seen houses and snapshots are new at most decisions,
    /// each one added here). Not a field: a record's fields take part in its equality and are copied by <c>with</c>.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HouseSeen, HouseSnapshot> Matched = [];

    private (IReadOnlyList<HostFacts> Changed, IReadOnlyList<string> Gone) Diff(IReadOnlyList<HostFacts> hosts)
    {
        // Every decision asks this, and almost always nothing changed: no allocation then but the prints themselves.
        // Indexed loops, no lambda over the hosts: a foreach over the interface or a closure (allocated on entry, used
        // or not) would allocate at every decision.
        List<HostFacts>? changed = null;
        var known = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            if (Prints.TryGetValue(host.Name, out var print))
            {
                known++;
                if (print == PrintOf(host))
                {
                    continue;
                }
            }

            (changed ??= []).Add(host);
        }

        return (changed ?? [], known == Prints.Count ? [] : Gone(hosts));
    }

    private string[] Gone(IReadOnlyList<HostFacts> hosts) =>
        [.. Prints.Keys.Where(n => !hosts.Any(h => h.Name == n)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// What is seen of a whole house recorded at once (<see cref="HouseObserved"/>, in streams from before only changes
    /// were recorded): what <see cref="Of"/> would build anew, got by folding in only the hosts that changed when what
    /// is kept of the others still holds (this record itself when nothing changed). Such a stream records the house
    /// with every decision, and building it anew each time was a tenth of deciding one of those histories again.
    /// </summary>
    public HouseSeen Observed(IReadOnlyList<HostFacts> hosts, string? vm)
    {
        var (changed, gone) = Diff(hosts);
        if (!KeptAsIn(hosts, changed, vm))
        {
            return Of(hosts, vm);
        }

        return changed.Count == 0 && gone.Count == 0 ? this : With(changed, gone, vm);
    }

    /// <summary>
    /// Whether the offline hosts and where <paramref name="vm"/> runs, as kept, are what the unchanged hosts say. Not
    /// so when this was kept for another VM (<see cref="For"/>), or stored with every VM's whereabouts.
    /// </summary>
    private bool KeptAsIn(IReadOnlyList<HostFacts> hosts, IReadOnlyList<HostFacts> changed, string? vm)
    {
        if (Running.Count > 1 || (Running.Count == 1 && (vm is null || !Running.ContainsKey(vm))))
        {
            return false;
        }

        var runningOn = vm is null ? [] : HostsRunning(vm);
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            if (IsAmong(host, changed))
            {
                continue;
            }

            if (host.AgentOnline == Offline.Contains(host.Name) || (vm is not null && host.Runs(vm) != runningOn.Contains(host.Name)))
            {
                return false;
            }
        }

        return true;

        static bool IsAmong(HostFacts host, IReadOnlyList<HostFacts> changed)
        {
            for (var i = 0; i < changed.Count; i++)
            {
                if (ReferenceEquals(changed[i], host))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>What is seen after a change: the changed hosts as they are now, the gone ones forgotten; where <paramref name="vm"/> runs.</summary>
    public HouseSeen With(IEnumerable<HostFacts> changed, IEnumerable<string> gone, string? vm)
    {
        var hosts = changed as IReadOnlyList<HostFacts> ?? changed.ToList();
        var goneHosts = gone as IReadOnlyList<string> ?? gone.ToList();

        // Most changes are facts the saga does not fold (free memory, battery): new prints, and the same offline
        // hosts and running VMs, kept as they are. Folding a year of a house is mostly this, so no LINQ here.
        if (goneHosts.Count == 0 && AllStandAsBefore(hosts, vm))
        {
            var reprinted = new Dictionary<string, string>(Prints, StringComparer.Ordinal);
            for (var i = 0; i < hosts.Count; i++)
            {
                reprinted[hosts[i].Name] = PrintOf(hosts[i]);
            }

            return this with { Prints = reprinted };
        }

        return Rebuilt(hosts, goneHosts, vm);
    }

    private bool AllStandAsBefore(IReadOnlyList<HostFacts> hosts, string? vm)
    {
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            if (!Prints.ContainsKey(host.Name) || !SameStanding(host, vm))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="host"/> is as offline and runs <paramref name="vm"/> or not as this record already says.</summary>
    private bool SameStanding(HostFacts host, string? vm) =>
        Offline.Contains(host.Name) != host.AgentOnline && (vm is null || host.Runs(vm) == Runs(host.Name, vm));

    private HouseSeen Rebuilt(IReadOnlyList<HostFacts> hosts, IReadOnlyList<string> gone, string? vm)
    {
        // Plain lists sorted once at the end and one dictionary built in that order, not LINQ, sorted trees nor a set
        // of the replaced names: folding a stream rebuilds this at every change of an agent's standing, and each of
        // those was a tenth of deciding a year again.
        var replaced = new Replaced(hosts, gone);
        var prints = new List<(string Name, string Print, int Order)>(Prints.Count + hosts.Count);
        foreach (var (name, print) in Prints)
        {
            if (!replaced.Contains(name))
            {
                prints.Add((name, print, -1));
            }
        }

        var offline = new List<string>(Offline.Count + 1);
        foreach (var host in Offline)
        {
            if (!replaced.Contains(host))
            {
                offline.Add(host);
            }
        }

        var running = new List<string>();
        if (vm is not null)
        {
            foreach (var host in HostsRunning(vm))
            {
                if (!replaced.Contains(host))
                {
                    running.Add(host);
                }
            }
        }

        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            prints.Add((host.Name, PrintOf(host), i));
            if (!host.AgentOnline)
            {
                offline.Add(host.Name);
            }

            if (vm is not null && host.Runs(vm))
            {
                running.Add(host.Name);
            }
        }

        // A name twice among the changed hosts keeps its last facts, as a dictionary written in their order would.
        prints.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : a.Order.CompareTo(b.Order));
        var keptPrints = new Dictionary<string, string>(prints.Count, StringComparer.Ordinal);
        foreach (var (name, print, _) in prints)
        {
            keptPrints[name] = print;
        }

        return new HouseSeen
        {
            Prints = keptPrints,
            Offline = Sorted(offline),
            Running = running.Count == 0
                ? new Dictionary<string, IReadOnlyList<string>>()
                : new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [vm!] = Sorted(running) },
        };

        // In name order, each once.
        static string[] Sorted(List<string> names)
        {
            if (names.Count > 1)
            {
                names.Sort(StringComparer.Ordinal);
                for (var i = names.Count - 1; i > 0; i--)
                {
                    if (names[i] == names[i - 1])
                    {
                        names.RemoveAt(i);
                    }
                }
            }

            return [.. names];
        }
    }

    /// <summary>
    /// A 64-bit FNV-1a hash of every fact, each with its length so no two different hosts feed the same sequence: the
    /// same facts give the same print in every process and on every machine (string.GetHashCode would not), and it is
    /// cheap enough to take of every host at every decision. It only tells a change from none; a collision (one in
    /// 2^64 per change) would leave one change of one host unrecorded until its next.
    /// </summary>
    public static string PrintOf(HostFacts h) => Printed.GetValue(h, static facts => Fingerprint(facts));

    /// <remarks>
    /// Kept per HostFacts instance (immutable) beside it: a decision diffs every host, and a replay hands the same
    /// instances to decision after decision until the house changes; the hashing was a tenth of deciding again.
    /// </remarks>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HostFacts, string> Printed = new();

    private static string Fingerprint(HostFacts h)
    {
        var print = new Fnv();
        print.Text(h.Name);
        print.Number(h.AgentOnline ? 1 : 0);
        print.Number(h.MemoryMb);
        print.Number(h.MemoryFreeMb);
        print.Optional(h.LinkMbps);
        print.Number(h.OnBattery ? 1 : 0);
        print.Optional(h.BatteryPercent);
        print.Number(h.InMaintenance ? 1 : 0);
        print.Number(h.Vms.Count);
        foreach (var vm in h.Vms)
        {
            print.Text(vm.Name);
            print.Number((int)vm.State);
            print.Number(vm.MemoryMb);
            print.Text(vm.DisplayUri);
        }

        return print.Hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The names a change replaces: its hosts' and the gone ones. A house changes a host or two at a time, and looking
    /// through those is cheaper than hashing into a set; a set only when a whole house came at once.
    /// </summary>
    private readonly struct Replaced
    {
        private readonly IReadOnlyList<HostFacts> hosts;
        private readonly IReadOnlyList<string> gone;
        private readonly HashSet<string>? many;

        public Replaced(IReadOnlyList<HostFacts> hosts, IReadOnlyList<string> gone)
        {
            this.hosts = hosts;
            this.gone = gone;
            if (hosts.Count + gone.Count > 8)
            {
                many = new HashSet<string>(gone, StringComparer.Ordinal);
                for (var i = 0; i < hosts.Count; i++)
                {
                    many.Add(hosts[i].Name);
                }
            }
        }

        public bool Contains(string name)
        {
            if (many is not null)
            {
                return many.Contains(name);
            }

            for (var i = 0; i < hosts.Count; i++)
            {
                if (hosts[i].Name == name)
                {
                    return true;
                }
            }

            for (var i = 0; i < gone.Count; i++)
            {
                if (gone[i] == name)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private struct Fnv()
    {
        public ulong Hash { get; private set; } = 14695981039346656037UL;

        public void Number(int value)
        {
            var v = (uint)value;
            for (var i = 0; i < 4; i++)
            {
                Hash = (Hash ^ (byte)(v >> (8 * i))) * 1099511628211UL;
            }
        }

        public void Optional(int? value)
        {
            Number(value is null ? 0 : 1);
            Number(value ?? 0);
        }

        /// <summary>-1 for null, then the length, then the characters: "" and null differ, and so do "ab"+"c" and "a"+"bc".</summary>
        public void Text(string? value)
        {
            Number(value?.Length ?? -1);
            foreach (var c in value ?? "")
            {
                Hash = (Hash ^ (byte)c) * 1099511628211UL;
                Hash = (Hash ^ (byte)(c >> 8)) * 1099511628211UL;
            }
        }
    }
}
