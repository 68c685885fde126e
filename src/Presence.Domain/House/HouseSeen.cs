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
        // Every decision asks this, and almost always nothing changed: no allocation then but the prints themselves.
        List<HostFacts>? changed = null;
        var known = 0;
        foreach (var host in house.Hosts)
        {
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

        IReadOnlyList<string> gone = known == Prints.Count
            ? []
            : [.. Prints.Keys.Where(n => !house.Hosts.Any(h => h.Name == n)).Order(StringComparer.Ordinal)];
        return (changed ?? [], gone);
    }

    /// <summary>What is seen after a change: the changed hosts as they are now, the gone ones forgotten; where <paramref name="vm"/> runs.</summary>
    public HouseSeen With(IEnumerable<HostFacts> changed, IEnumerable<string> gone, string? vm)
    {
        var hosts = changed.ToList();
        var goneHosts = gone.ToList();

        // Most changes are facts the saga does not fold (free memory, battery): new prints, and the same offline
        // hosts and running VMs, kept as they are. Folding a year of a house is mostly this.
        if (goneHosts.Count == 0 && hosts.All(h => Prints.ContainsKey(h.Name) && SameStanding(h, vm)))
        {
            var reprinted = Prints.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            foreach (var host in hosts)
            {
                reprinted[host.Name] = PrintOf(host);
            }

            return this with { Prints = reprinted };
        }

        var replaced = goneHosts.Concat(hosts.Select(h => h.Name)).ToHashSet(StringComparer.Ordinal);
        return Rebuilt(hosts, replaced, vm);
    }

    /// <summary>Whether <paramref name="host"/> is as offline and runs <paramref name="vm"/> or not as this record already says.</summary>
    private bool SameStanding(HostFacts host, string? vm) =>
        Offline.Contains(host.Name) != host.AgentOnline && (vm is null || host.Runs(vm) == Runs(host.Name, vm));

    private HouseSeen Rebuilt(List<HostFacts> hosts, HashSet<string> replaced, string? vm)
    {
        // Plain dictionaries and lists sorted once at the end, not LINQ nor sorted trees: folding a stream rebuilds this
        // at every change of an agent's standing (a tenth of deciding a year again, with sorted trees).
        var prints = new Dictionary<string, string>(Prints.Count + hosts.Count, StringComparer.Ordinal);
        foreach (var (name, print) in Prints)
        {
            if (!replaced.Contains(name))
            {
                prints[name] = print;
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

        foreach (var host in hosts)
        {
            prints[host.Name] = PrintOf(host);
            if (!host.AgentOnline)
            {
                offline.Add(host.Name);
            }

            if (vm is not null && host.Runs(vm))
            {
                running.Add(host.Name);
            }
        }

        var names = prints.Keys.ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        var keptPrints = new Dictionary<string, string>(names.Length, StringComparer.Ordinal);
        foreach (var name in names)
        {
            keptPrints[name] = prints[name];
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
