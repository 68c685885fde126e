using System.Text.Json;
using ApprovalTests;
using ApprovalTests.Namers;
using ApprovalTests.Reporters;
using NodaTime;
using Presence.Contracts.Wire;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Dashboard;
using Presence.Server.HomeAssistant;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// Every retained state Home Assistant is sent, and the dashboard's view it is drawn from, for a house that has each
/// case in it: two people at one seat, a desktop found only in an agent's inventory, a frozen one, a move with a
/// proposal beside it, a VM nobody owns, a computer that never reported and a laptop's battery. Approved whole, so a
/// faster way of computing them (the publisher does it up to ten times a second) must give the very same.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public sealed class the_states_published
{
    private static readonly Instant At = Instant.FromUtc(2026, 12, 8, 12, 0);
    private static readonly HaTopics Topics = new(new Topics(), "homeassistant");

    private static readonly HousePolicy Policy = new()
    {
        Hosts =
        [
            new HostSpec("basement", HostRole.Server, true, 10000),
            new HostSpec("imac", HostRole.Desktop, true, 1000),
            new HostSpec("laptop", HostRole.Laptop, true, 300),
            new HostSpec("attic", HostRole.Desktop, false, 1000),
        ],
        Users =
        [
            new UserSpec("alice", "alice-desktop", "basement", ["basement", "imac", "laptop"], PreferredMode.ThinClient),
            new UserSpec("bob", "bob-desktop", "basement", ["basement", "imac"]),
            new UserSpec("carol", "carol-desktop", "basement", ["basement", "laptop"]),
            new UserSpec("dave", "dave-desktop", "basement", ["basement", "imac"]),
            new UserSpec("erin", "erin-desktop", "basement", ["basement", "imac"], Automation: AutomationLevel.Recommend),
            new UserSpec("frank", "frank-desktop", "imac", ["imac"]),
        ],
        Vms =
        [
            new VmSpec("alice-desktop", 4096, "alice"), new VmSpec("bob-desktop", 2048, "bob"), new VmSpec("carol-desktop", 2048, "carol"),
            new VmSpec("dave-desktop", 2048, "dave"), new VmSpec("erin-desktop", 2048, "erin"), new VmSpec("frank-desktop", 2048, "frank"),
        ],
    };

    private static Dictionary<string, UserSaga> Sagas() => new[]
    {
        UserSaga.Start("alice", "alice-desktop") with { Seat = "imac", SeatConfidence = 1, VmHost = "basement", DisplayedOn = "imac" },
        UserSaga.Start("bob", "bob-desktop") with { Seat = "imac", SeatConfidence = 0.6, VmHost = "imac", Held = true },
        UserSaga.Start("carol", "carol-desktop") with { Seat = "laptop", SeatConfidence = 0.8 },
        UserSaga.Start("dave", "dave-desktop") with { Suspended = new SuspendedVm("/var/lib/presence/suspended/dave", "basement", "imac", At) },
        UserSaga.Start("erin", "erin-desktop") with
        {
            Seat = "imac",
            VmHost = "basement",
            Migration = new PendingMigration("m-1", "erin-desktop", "basement", "imac", Phases.Migrating, "p-1", "c-1", null, 42.6, At),
            Proposal = new PlacementProposed("erin", "d-1", "erin-desktop", "basement", "imac", PlacementMode.LiveMigration, Rules.FollowSeat,
                "erin sat down at the imac", [], [], Duration.FromSeconds(68), "v1", At),
        },
    }.ToDictionary(s => s.Id);

    private static Dictionary<string, HostState> Hosts() => new[]
    {
        Host("basement", vms: [Vm("alice-desktop"), Vm("erin-desktop"), Vm("build-vm"), Vm("old-vm", VmRunState.Stopped)]),
        Host("imac", vms: [Vm("bob-desktop")]) with { InMaintenance = true, MaintenanceReason = "new disk" },
        Host("laptop", vms: [Vm("carol-desktop")]) with { OnBattery = true, BatteryPercent = 55 },
    }.ToDictionary(h => h.Name);

    private static HostState Host(string name, IReadOnlyList<VmFact> vms) => new()
    {
        Id = HostState.StreamId(name), Name = name, AgentOnline = name != "laptop", MemoryMb = 16384, MemoryFreeMb = 8192, Vms = vms,
    };

    private static VmFact Vm(string name, VmRunState state = VmRunState.Running) => new(name, state, 2048, null);

    private static HouseView House() => HouseViews.Build(Policy, Sagas(), new Dictionary<string, long> { ["alice"] = 12, ["erin"] = 3 }, Hosts());

    [Fact]
    public void every_state_topic_with_its_value()
    {
        var states = HaStates.Of(Policy, House(), new HashSet<string>(["basement", "imac", "laptop"]), Topics);

        Approvals.Verify(string.Join("\n", states.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} = {s.Value}")));
    }

    [Fact]
    public void the_view_they_are_drawn_from()
    {
        Approvals.Verify(JsonSerializer.Serialize(House(), new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    }
}
