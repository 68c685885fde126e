using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Dashboard;
using Presence.Server.Mqtt;
using static Presence.Server.HomeAssistant.Discovery;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Every retained state topic the discovery configs name, with its value, from the same view the dashboard draws
/// (the projections alone). Each value is one HA accepts for its entity: an option of the enum or select, ON/OFF,
/// a number, or HA's "None" (unknown) for a measurement the agent has not reported yet.
/// </summary>
public static class HaStates
{
    public static Dictionary<string, string> Of(HousePolicy policy, HouseView house, IReadOnlySet<string> reported, HaTopics t)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        Fill(states, policy, house, reported, t);
        return states;
    }

    /// <summary>
    /// As <see cref="Of"/>, into <paramref name="states"/> (cleared first): the publisher fills one dictionary again
    /// and again, where a new one for a 500-seat office was 200 KB on the large object heap at every look.
    /// </summary>
    public static void Fill(Dictionary<string, string> states, HousePolicy policy, HouseView house, IReadOnlySet<string> reported, HaTopics t)
    {
        var topics = TopicsOf(policy, t);
        states.Clear();
        states[topics.Version] = ServerStatus.Version;

        // By name, once: looked up per person and per computer, a 500-seat office's states took 250,000 comparisons.
        var users = FirstByName(house.Users, u => u.Name);
        var moves = FirstByName(house.Moves, m => m.User);
        var proposals = FirstByName(house.Proposals, p => p.User);
        var hostViews = FirstByName(house.Hosts, h => h.Name);
        for (var i = 0; i < policy.Users.Count; i++)
        {
            var spec = policy.Users[i];
            var user = users[spec.Name];
            var move = moves.GetValueOrDefault(spec.Name);
            var proposal = proposals.GetValueOrDefault(spec.Name);
            var topic = topics.Persons[i];
            states[topic.Seat] = user.Seat is { } seat && topics.HostNames.Contains(seat) ? seat : Nowhere;
            states[topic.Desktop] = user.VmHost is { } vmHost && topics.HostNames.Contains(vmHost) ? vmHost
                : user.SuspendedFrom is not null ? Suspended : Nowhere;
            states[topic.Mode] = Word(user.Mode);
            states[topic.MoveProgress] = Math.Clamp(Math.Round(move?.Percent ?? 0), 0, 100).ToString(CultureInfo.InvariantCulture);
            states[topic.Moving] = move is not null ? "ON" : "OFF";
            states[topic.Hold] = user.Held ? "ON" : "OFF";
            states[topic.BringTo] = BringTo(spec, user, move);
            states[topic.Automation] = Word(user.Automation);
            states[topic.Proposal] = proposal is { To: var to } && topics.HostNames.Contains(to) ? to : Nothing;
            states[topic.ProposalAttributes] = proposal is null ? NoAttributes : new JsonObject
            {
                ["decision_id"] = proposal.DecisionId,
                ["vm"] = proposal.Vm,
                ["from"] = proposal.From,
                ["to"] = proposal.To,
                ["mode"] = proposal.Mode,
                ["rule"] = proposal.Rule,
                ["reason"] = proposal.Reason,
            }.ToJsonString();
        }

        for (var i = 0; i < policy.Hosts.Count; i++)
        {
            var spec = policy.Hosts[i];
            var host = hostViews[spec.Name];
            var known = reported.Contains(spec.Name);
            var topic = topics.Computers[i];
            states[topic.Agent] = host.AgentOnline ? "ON" : "OFF";
            states[topic.Maintenance] = host.InMaintenance ? "ON" : "OFF";
            states[topic.MemoryFree] = known ? host.MemoryFreeMb.ToString(CultureInfo.InvariantCulture) : Unknown;
            states[topic.Vms] = host.Vms.Count.ToString(CultureInfo.InvariantCulture);
            states[topic.VmsAttributes] = topic.VmsJson(host.Vms);
            // A sensor's state is at most 255 characters (HA core); a house has far fewer people than that.
            var seated = host.Seated.Count == 0 ? Nobody : string.Join(", ", host.Seated);
            states[topic.Seated] = seated.Length <= 255 ? seated : seated[..252] + "...";
            if (spec.Role == HostRole.Laptop)
            {
                states[topic.Battery] = known && host.BatteryPercent is { } percent
                    ? Math.Clamp(percent, 0, 100).ToString(CultureInfo.InvariantCulture)
                    : Unknown;
            }
        }
    }

    private const string NoAttributes = "{}";

    private static Dictionary<string, T> FirstByName<T>(IReadOnlyList<T> items, Func<T, string> name)
    {
        // The first of a name, as FirstOrDefault found it.
        var byName = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        foreach (var item in items)
        {
            byName.TryAdd(name(item), item);
        }

        return byName;
    }

    /// <summary>
    /// Every state topic of a house, written once: they follow from the house file and the topic root alone, and
    /// writing them anew at each look was 9,000 strings for a 500-seat office. Kept beside the topics it was written
    /// with, for the house it was written for.
    /// </summary>
    private static StateTopics TopicsOf(HousePolicy policy, HaTopics t)
    {
        if (Written.TryGetValue(t, out var kept) && ReferenceEquals(kept.Policy, policy))
        {
            return kept;
        }

        var written = new StateTopics(policy, t);
        Written.AddOrUpdate(t, written);
        return written;
    }

    private static readonly ConditionalWeakTable<HaTopics, StateTopics> Written = [];

    private sealed class StateTopics
    {
        public StateTopics(HousePolicy policy, HaTopics t)
        {
            Policy = policy;
            Version = t.Server(ServerKeys.Version);
            HostNames = policy.Hosts.Select(h => h.Name).ToHashSet(StringComparer.Ordinal);
            Persons = [.. policy.Users.Select(u => new PersonTopics(t, u.Name))];
            Computers = [.. policy.Hosts.Select(h => new ComputerTopics(t, h.Name))];
        }

        public HousePolicy Policy { get; }

        public string Version { get; }

        public HashSet<string> HostNames { get; }

        public PersonTopics[] Persons { get; }

        public ComputerTopics[] Computers { get; }
    }

    private sealed class PersonTopics(HaTopics t, string user)
    {
        public string Seat { get; } = t.Person(user, PersonKeys.Seat);
        public string Desktop { get; } = t.Person(user, PersonKeys.Desktop);
        public string Mode { get; } = t.Person(user, PersonKeys.Mode);
        public string MoveProgress { get; } = t.Person(user, PersonKeys.MoveProgress);
        public string Moving { get; } = t.Person(user, PersonKeys.Moving);
        public string Hold { get; } = t.Person(user, PersonKeys.Hold);
        public string BringTo { get; } = t.Person(user, PersonKeys.BringTo);
        public string Automation { get; } = t.Person(user, PersonKeys.Automation);
        public string Proposal { get; } = t.Person(user, PersonKeys.Proposal);
        public string ProposalAttributes { get; } = HaTopics.Attributes(t.Person(user, PersonKeys.Proposal));
    }

    private sealed class ComputerTopics(HaTopics t, string host)
    {
        public string Agent { get; } = t.Computer(host, ComputerKeys.Agent);
        public string Maintenance { get; } = t.Computer(host, ComputerKeys.Maintenance);
        public string MemoryFree { get; } = t.Computer(host, ComputerKeys.MemoryFree);
        public string Vms { get; } = t.Computer(host, ComputerKeys.Vms);
        public string VmsAttributes { get; } = HaTopics.Attributes(t.Computer(host, ComputerKeys.Vms));
        public string Seated { get; } = t.Computer(host, ComputerKeys.Seated);
        public string Battery { get; } = t.Computer(host, ComputerKeys.Battery);

        // The list as last written and its text, swapped whole: a server's list of 500 VMs rarely changes between two looks.
        private VmsText last = new([], """{"vms":[]}""");

        public string VmsJson(IReadOnlyList<VmView> vms)
        {
            var seen = last;
            if (SameNames(seen.Vms, vms))
            {
                return seen.Json;
            }

            var json = new JsonObject
            {
                ["vms"] = new JsonArray(vms.Select(v => (JsonNode?)JsonValue.Create(v.Name)).ToArray()),
            }.ToJsonString();
            last = new VmsText(vms, json);
            return json;
        }

        private sealed record VmsText(IReadOnlyList<VmView> Vms, string Json);

        private static bool SameNames(IReadOnlyList<VmView> a, IReadOnlyList<VmView> b)
        {
            if (a.Count != b.Count)
            {
                return false;
            }

            for (var i = 0; i < a.Count; i++)
            {
                if (!string.Equals(a[i].Name, b[i].Name, StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// A select must always show one of its options (HA select.py refuses any other state): where the desktop runs,
    /// or is going, or would resume; failing all, the home computer, which is always allowed.
    /// </summary>
    private static string BringTo(UserSpec spec, UserView user, MoveView? move)
    {
        foreach (var candidate in new[] { user.VmHost, move?.Target, user.ResumeOn, user.SuspendedFrom, spec.HomeHost })
        {
            if (candidate is not null && spec.AllowedHosts.Contains(candidate))
            {
                return candidate;
            }
        }

        return spec.AllowedHosts[0];
    }
}
