using NodaTime;

namespace Presence.Domain.House;

public enum VmRunState { Running, Paused, Suspended, Incoming, Stopped }

public sealed record VmFact(string Name, VmRunState State, int MemoryMb, string? DisplayUri);

/// <summary>What one host's agent last told us about itself. Facts, not settings: they come from the agents.</summary>
public sealed record HostFacts(
    string Name,
    bool AgentOnline,
    int MemoryMb,
    int MemoryFreeMb,
    int? LinkMbps,
    bool OnBattery,
    int? BatteryPercent,
    IReadOnlyList<VmFact> Vms,
    bool InMaintenance = false)
{
    public static HostFacts Unknown(string name) => new(name, false, 0, 0, null, false, null, []);

    /// <summary>
    /// Whether an agent reports <paramref name="vm"/> running or paused here (a loop: asked at every decision, see
    /// <see cref="ByName"/>).
    /// </summary>
    public bool Runs(string vm)
    {
        for (var i = 0; i < Vms.Count; i++)
        {
            if (Vms[i] is { State: VmRunState.Running or VmRunState.Paused } v && v.Name == vm)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Value equality including the VM list, which records compare by reference.</summary>
    public bool SameAs(HostFacts other) =>
        this with { Vms = [] } == other with { Vms = [] } && Vms.SequenceEqual(other.Vms);
}

/// <summary>The facts about every host at the moment of a decision.</summary>
public sealed record HouseSnapshot(IReadOnlyList<HostFacts> Hosts)
{
    public static HouseSnapshot Empty { get; } = new([]);

    public HostFacts Host(string name) => ByName.Find(Hosts, name, static h => h.Name) ?? HostFacts.Unknown(name);

    /// <summary>Where a VM runs according to the agents; null when no agent reports it running.</summary>
    public string? WhereRuns(string vm)
    {
        foreach (var host in Hosts)
        {
            if (host.Runs(vm))
            {
                return host.Name;
            }
        }

        return null;
    }

    public bool SameAs(HouseSnapshot other) =>
        Hosts.Count == other.Hosts.Count && Hosts.Zip(other.Hosts).All(p => p.First.SameAs(p.Second));

    /// <summary>The house after a recorded change: the changed hosts replaced or added, the gone ones dropped, in name order.</summary>
    public HouseSnapshot With(IEnumerable<HostFacts> changed, IEnumerable<string> gone)
    {
        var byName = Hosts.ToDictionary(h => h.Name, StringComparer.Ordinal);
        foreach (var name in gone)
        {
            byName.Remove(name);
        }

        foreach (var host in changed)
        {
            byName[host.Name] = host;
        }

        return new HouseSnapshot(byName.Values.ToList()).Normalised();
    }

    /// <summary>
    /// Hosts in name order, so two snapshots of the same house compare equal; this one when already so.
    /// </summary>
    /// <remarks>Every decision normalises its house, which almost always came in order (the server's snapshot, the
    /// history's): sorting a copy each time was a tenth of what deciding a year again allocated.</remarks>
    public HouseSnapshot Normalised()
    {
        var kept = KeepsAnswers;
        if (kept && InOrder.TryGetValue(this, out _))
        {
            return this;
        }

        for (var i = 1; i < Hosts.Count; i++)
        {
            if (string.CompareOrdinal(Hosts[i - 1].Name, Hosts[i].Name) > 0)
            {
                return new(Hosts.OrderBy(h => h.Name, StringComparer.Ordinal).ToList());
            }
        }

        if (kept)
        {
            InOrder.AddOrUpdate(this, InOrder);
        }

        return this;
    }

    /// <summary>
    /// Whether answers about this snapshot are kept beside it (<see cref="InOrder"/>, <see cref="HouseSeen.Diff"/>): a
    /// house of more than <see cref="HousePolicy.Searched"/> hosts. A few hosts are checked again sooner than an answer
    /// is found, and a replay, whose snapshots are new at most decisions, would fill the tables.
    /// </summary>
    internal bool KeepsAnswers => Hosts.Count > HousePolicy.Searched;

    /// <summary>
    /// The snapshots found in name order: a node hands decision after decision the one it keeps, and checking its
    /// 501 names each time cost a 500-seat office's server 1.7 % of its CPU. Beside it, not a field (record equality);
    /// only for more than <see cref="HousePolicy.Searched"/> hosts, as <see cref="HouseSeen.Diff"/> keeps its answers.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HouseSnapshot, object> InOrder = [];
}
