using Marten;
using Presence.Domain.Placement;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// Maintenance on the iMac concerns both VMs running there: one transaction decides for alice and for dave. Each
/// user's events carry their own story's metadata (their own decision, caused by the host's change), not whichever
/// user the session decided for last.
/// </summary>
public sealed class one_host_change_for_two_users : IAsyncLifetime
{
    private readonly string shared = PostgresCluster.NewScratchDirectory("shared");
    private RunningHouse house = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(shared);
        house = await RunningHouse.StartAsync(
            TestHouse.WithPolicy(("SharedStorage", $"\"{shared}\"")),
            ("imac", [("alice-desktop", 2048), ("dave-desktop", 1024)]), ("basement", []));
    }

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task each_users_events_carry_their_own_decision()
    {
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-maintenance", "homeassistant");
        await homeAssistant.PublishAsync("presence/hosts/imac/maintenance", """{"id":"m-on","state":"on","reason":"new disk"}""");

        var decisions = new Dictionary<string, PlacementDecided>();
        foreach (var user in new[] { "alice", "dave" })
        {
            decisions[user] = await Eventually.GetAsync(async () =>
                (await house.StreamAsync(user)).OfType<PlacementDecided>().FirstOrDefault(d => d.Rule == Rules.MaintenanceEvacuate),
                $"{user}'s evacuation");
        }

        Assert.NotEqual(decisions["alice"].DecisionId, decisions["dave"].DecisionId);
        await using var session = house.Server.Store.QuerySession();
        foreach (var (user, decided) in decisions)
        {
            var stored = (await session.Events.FetchStreamAsync(user)).Single(e => e.Data is PlacementDecided d && d.DecisionId == decided.DecisionId);
            Assert.Equal(decided.DecisionId, stored.Headers?["decision_id"]?.ToString());
            Assert.Equal(decided.DecisionId, stored.CorrelationId);
            Assert.Equal("host:imac", stored.CausationId);
        }
    }
}
