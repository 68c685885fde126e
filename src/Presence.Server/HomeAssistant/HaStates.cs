using System.Globalization;
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
        var states = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [t.Server(ServerKeys.Version)] = ServerStatus.Version,
        };
        var hostNames = policy.Hosts.Select(h => h.Name).ToHashSet();
        foreach (var spec in policy.Users)
        {
            var user = house.Users.Single(u => u.Name == spec.Name);
            var move = house.Moves.FirstOrDefault(m => m.User == spec.Name);
            var proposal = house.Proposals.FirstOrDefault(p => p.User == spec.Name);
            string Topic(string key) => t.Person(spec.Name, key);
            states[Topic(PersonKeys.Seat)] = user.Seat is { } seat && hostNames.Contains(seat) ? seat : Nowhere;
            states[Topic(PersonKeys.Desktop)] = user.VmHost is { } vmHost && hostNames.Contains(vmHost) ? vmHost
                : user.SuspendedFrom is not null ? Suspended : Nowhere;
            states[Topic(PersonKeys.Mode)] = Word(user.Mode);
            states[Topic(PersonKeys.MoveProgress)] = Math.Clamp(Math.Round(move?.Percent ?? 0), 0, 100).ToString(CultureInfo.InvariantCulture);
            states[Topic(PersonKeys.Moving)] = move is not null ? "ON" : "OFF";
            states[Topic(PersonKeys.Hold)] = user.Held ? "ON" : "OFF";
            states[Topic(PersonKeys.BringTo)] = BringTo(spec, user, move);
            states[Topic(PersonKeys.Automation)] = Word(user.Automation);
            states[Topic(PersonKeys.Proposal)] = proposal is { To: var to } && hostNames.Contains(to) ? to : Nothing;
            var attributes = proposal is null ? new JsonObject() : new JsonObject
            {
                ["decision_id"] = proposal.DecisionId,
                ["vm"] = proposal.Vm,
                ["from"] = proposal.From,
                ["to"] = proposal.To,
                ["mode"] = proposal.Mode,
                ["rule"] = proposal.Rule,
                ["reason"] = proposal.Reason,
            };
            states[HaTopics.Attributes(Topic(PersonKeys.Proposal))] = attributes.ToJsonString();
        }

        foreach (var spec in policy.Hosts)
        {
            var host = house.Hosts.Single(h => h.Name == spec.Name);
            var known = reported.Contains(spec.Name);
            string Topic(string key) => t.Computer(spec.Name, key);
            states[Topic(ComputerKeys.Agent)] = host.AgentOnline ? "ON" : "OFF";
            states[Topic(ComputerKeys.Maintenance)] = host.InMaintenance ? "ON" : "OFF";
            states[Topic(ComputerKeys.MemoryFree)] = known ? host.MemoryFreeMb.ToString(CultureInfo.InvariantCulture) : Unknown;
            states[Topic(ComputerKeys.Vms)] = host.Vms.Count.ToString(CultureInfo.InvariantCulture);
            states[HaTopics.Attributes(Topic(ComputerKeys.Vms))] = new JsonObject
            {
                ["vms"] = new JsonArray(host.Vms.Select(v => (JsonNode?)JsonValue.Create(v.Name)).ToArray()),
            }.ToJsonString();
            // A sensor's state is at most 255 characters (HA core); a house has far fewer people than that.
            var seated = host.Seated.Count == 0 ? Nobody : string.Join(", ", host.Seated);
            states[Topic(ComputerKeys.Seated)] = seated.Length <= 255 ? seated : seated[..252] + "...";
            if (spec.Role == HostRole.Laptop)
            {
                states[Topic(ComputerKeys.Battery)] = known && host.BatteryPercent is { } percent
                    ? Math.Clamp(percent, 0, 100).ToString(CultureInfo.InvariantCulture)
                    : Unknown;
            }
        }

        return states;
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
