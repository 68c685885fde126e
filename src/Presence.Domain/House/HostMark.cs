using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Presence.Domain.House;

/// <summary>
/// What a user's saga keeps of one host instead of its whole facts: a fingerprint of them, enough to tell which
/// hosts the next house changed (so the stream records only those), and the two facts the saga folds in between
/// decisions (<see cref="Users.UserDecider.Evolve"/>): whether the host's agent is online and which VMs run there.
/// </summary>
public sealed record HostMark(string Name, string Print, bool AgentOnline, IReadOnlyList<string> Running)
{
    public static HostMark Of(HostFacts facts) =>
        new(facts.Name, PrintOf(facts), facts.AgentOnline, [.. facts.Vms.Where(v => facts.Runs(v.Name)).Select(v => v.Name).Distinct()]);

    public static HostMark Unknown(string name) => Of(HostFacts.Unknown(name));

    public bool Runs(string vm) => Running.Contains(vm);

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

/// <summary>The marks a saga keeps of the whole house, in host name order.</summary>
public static class HouseMarks
{
    public static HostMark Host(this IReadOnlyList<HostMark> marks, string name) =>
        marks.FirstOrDefault(m => m.Name == name) ?? HostMark.Unknown(name);

    /// <summary>The hosts of <paramref name="house"/> whose facts differ from what the marks remember, and the hosts no longer in it.</summary>
    public static (IReadOnlyList<HostFacts> Changed, IReadOnlyList<string> Gone) Diff(IReadOnlyList<HostMark> marks, HouseSnapshot house)
    {
        var known = new Dictionary<string, string>(marks.Count, StringComparer.Ordinal);
        foreach (var mark in marks)
        {
            known[mark.Name] = mark.Print;
        }

        var changed = house.Hosts.Where(h => !known.TryGetValue(h.Name, out var print) || print != HostMark.PrintOf(h)).ToList();
        var present = house.Hosts.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
        var gone = marks.Select(m => m.Name).Where(n => !present.Contains(n)).ToList();
        return (changed, gone);
    }

    /// <summary>The marks after a change: changed hosts replaced or added, gone hosts dropped.</summary>
    public static IReadOnlyList<HostMark> Apply(IReadOnlyList<HostMark> marks, IEnumerable<HostFacts> changed, IEnumerable<string> gone)
    {
        var byName = marks.ToDictionary(m => m.Name, StringComparer.Ordinal);
        foreach (var name in gone)
        {
            byName.Remove(name);
        }

        foreach (var host in changed)
        {
            byName[host.Name] = HostMark.Of(host);
        }

        return [.. byName.Values.OrderBy(m => m.Name, StringComparer.Ordinal)];
    }
}
