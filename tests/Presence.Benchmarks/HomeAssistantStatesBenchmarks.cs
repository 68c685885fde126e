using BenchmarkDotNet.Attributes;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Dashboard;
using Presence.Server.HomeAssistant;

namespace Presence.Benchmarks;

/// <summary>
/// What Home Assistant's publisher computes each time it looks at a 500-seat office (up to ten times a second under a
/// burst of signals): the house's view from the documents it read, and every retained state topic with its value.
/// Every person sits at a seat of their own, their desktop runs on the server and is shown there; one in ten is being
/// moved and one in ten has a proposal waiting.
/// </summary>
[MemoryDiagnoser]
public class HomeAssistantStatesBenchmarks
{
    private const int Seats = 500;
    private HousePolicy policy = null!;
    private Dictionary<string, UserSaga> sagas = null!;
    private Dictionary<string, long> heads = null!;
    private Dictionary<string, HostState> hosts = null!;
    private HashSet<string> reported = null!;
    private readonly HaTopics topics = new(new Topics(), "homeassistant");
    private readonly Dictionary<string, string> states = new(StringComparer.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        var at = Instant.FromUtc(2026, 12, 8, 12, 0);
        var seats = Enumerable.Range(1, Seats).Select(i => $"seat-{i:D3}").ToList();
        var users = Enumerable.Range(1, Seats).Select(i => $"user-{i:D3}").ToList();
        policy = new HousePolicy
        {
            Hosts = [new HostSpec("server", HostRole.Server, true, 10000), .. seats.Select(s => new HostSpec(s, HostRole.Desktop, false, 1000))],
            Users = [.. users.Select((u, i) => new UserSpec(u, u + "-vm", "server", ["server", seats[i]], PreferredMode.ThinClient))],
            Vms = [.. users.Select(u => new VmSpec(u + "-vm", 512, u))],
        };
        sagas = users.Select((u, i) => UserSaga.Start(u, u + "-vm") with
        {
            Seat = seats[i],
            SeatConfidence = 1,
            VmHost = "server",
            DisplayedOn = seats[i],
            Migration = i % 10 == 1
                ? new PendingMigration($"m-{i}", u + "-vm", "server", seats[i], Phases.Migrating, $"p-{i}", $"c-{i}", null, 40, at)
                : null,
            Proposal = i % 10 == 2
                ? new PlacementProposed(u, $"d-{i}", u + "-vm", "server", seats[i], PlacementMode.LiveMigration, Rules.FollowSeat,
                    "a proposal", [], [], Duration.FromSeconds(60), "v1", at)
                : null,
        }).ToDictionary(s => s.Id, StringComparer.Ordinal);
        heads = users.ToDictionary(u => u, _ => 7L, StringComparer.Ordinal);
        hosts = policy.Hosts.ToDictionary(h => h.Name, h => new HostState
        {
            Id = HostState.StreamId(h.Name),
            Name = h.Name,
            AgentOnline = true,
            MemoryMb = 32768,
            MemoryFreeMb = 16384,
            Vms = h.Name == "server" ? [.. users.Select(u => new VmFact(u + "-vm", VmRunState.Running, 512, null))] : [],
        }, StringComparer.Ordinal);
        reported = [.. hosts.Keys];

        // The path named: every person's and computer's states, a move's progress and a proposal among them.
        var states = Publish();
        if (states[topics.Person("user-002", Discovery.PersonKeys.MoveProgress)] != "40"
            || states[topics.Person("user-003", Discovery.PersonKeys.Proposal)] != "seat-003"
            || states[topics.Computer("server", Discovery.ComputerKeys.Vms)] != "500"
            || states[topics.Computer("seat-007", Discovery.ComputerKeys.Seated)] != "user-007")
        {
            throw new InvalidOperationException("the office's states are not what its documents say");
        }
    }

    /// <summary>As the publisher does: into the one dictionary it keeps.</summary>
    [Benchmark]
    public Dictionary<string, string> Publish()
    {
        HaStates.Fill(states, policy, HouseViews.Build(policy, sagas, heads, hosts), reported, topics);
        return states;
    }
}
