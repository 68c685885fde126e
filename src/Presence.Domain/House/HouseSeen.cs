using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Presence.Domain.House;

/// <summary>
/// What a user's saga keeps of the house instead of every host's facts: a fingerprint per host, enough to tell which
/// hosts the next house changed (so the stream records only those), and the two facts the saga folds in between
/// decisions (<see cref="Users.UserDecider.Evolve"/>): which agents are offline and where each VM runs. Its lists and
/// keys are kept in name order, so the same house is kept the same way whichever way it arrived.
/// </summary>
public sealed record HouseSeen
{
    public static HouseSeen Empty { get; } = new();

    /// <summary>Each host of the house, by name, with the fingerprint of its facts (<see cref="PrintOf"/>).</summary>
    public IReadOnlyDictionary<string, string> Prints { get; init; } = new Dictionary<string, string>();

    /// <summary>The hosts whose agent is not online.</summary>
    public IReadOnlyList<string> Offline { get; init; } = [];

    /// <summary>Each VM some agent reports running (or paused), with the hosts that report it.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Running { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>As <see cref="HostFacts.AgentOnline"/>: a host not in the house has no agent online.</summary>
    public bool AgentOnline(string host) => Prints.ContainsKey(host) && !Offline.Contains(host);

    /// <summary>As <see cref="HostFacts.Runs"/> of that host.</summary>
    public bool Runs(string host, string vm) => HostsRunning(vm).Contains(host);

    public IReadOnlyList<string> HostsRunning(string vm) => Running.TryGetValue(vm, out var hosts) ? hosts : [];

    public static HouseSeen Of(IEnumerable<HostFacts> hosts) => Empty.With(hosts, []);

    /// <summary>The hosts of <paramref name="house"/> whose facts differ from what was seen, and the hosts no longer in it.</summary>
    public (IReadOnlyList<HostFacts> Changed, IReadOnlyList<string> Gone) Diff(HouseSnapshot house)
    {
        var changed = house.Hosts.Where(h => !Prints.TryGetValue(h.Name, out var print) || print != PrintOf(h)).ToList();
        var present = house.Hosts.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
        var gone = Prints.Keys.Where(n => !present.Contains(n)).Order(StringComparer.Ordinal).ToList();
        return (changed, gone);
    }

    /// <summary>What is seen after a change: the changed hosts as they are now, the gone ones forgotten.</summary>
    public HouseSeen With(IEnumerable<HostFacts> changed, IEnumerable<string> gone)
    {
        var hosts = changed.ToList();
        var replaced = gone.Concat(hosts.Select(h => h.Name)).ToHashSet(StringComparer.Ordinal);

        var prints = Prints.Where(p => !replaced.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var offline = Offline.Where(h => !replaced.Contains(h)).ToHashSet(StringComparer.Ordinal);
        var running = Running.ToDictionary(r => r.Key, r => r.Value.Where(h => !replaced.Contains(h)).ToList(), StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            prints[host.Name] = PrintOf(host);
            if (!host.AgentOnline)
            {
                offline.Add(host.Name);
            }

            foreach (var vm in host.Vms.Where(v => host.Runs(v.Name)).Select(v => v.Name).Distinct())
            {
                if (!running.TryGetValue(vm, out var on))
                {
                    running[vm] = on = [];
                }

                on.Add(host.Name);
            }
        }

        return new HouseSeen
        {
            Prints = prints.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            Offline = [.. offline.Order(StringComparer.Ordinal)],
            Running = running.Where(r => r.Value.Count > 0).OrderBy(r => r.Key, StringComparer.Ordinal)
                .ToDictionary(r => r.Key, r => (IReadOnlyList<string>)[.. r.Value.Distinct().Order(StringComparer.Ordinal)], StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// 64 bits of SHA-256 over every fact, each written with its length so no two different hosts read the same: the
    /// same facts give the same print in every process and on every machine (string.GetHashCode would not).
    /// </summary>
    public static string PrintOf(HostFacts h)
    {
        var text = new StringBuilder(128);
        Field(h.Name);
        Field(h.AgentOnline ? "1" : "0");
        Field(Number(h.MemoryMb));
        Field(Number(h.MemoryFreeMb));
        Field(h.LinkMbps is { } link ? Number(link) : null);
        Field(h.OnBattery ? "1" : "0");
        Field(h.BatteryPercent is { } battery ? Number(battery) : null);
        Field(h.InMaintenance ? "1" : "0");
        Field(Number(h.Vms.Count));
        foreach (var vm in h.Vms)
        {
            Field(vm.Name);
            Field(Number((int)vm.State));
            Field(Number(vm.MemoryMb));
            Field(vm.DisplayUri);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 8));

        void Field(string? value) =>
            text.Append(value is null ? "-" : Number(value.Length) + ":" + value).Append('|');

        static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);
    }
}
