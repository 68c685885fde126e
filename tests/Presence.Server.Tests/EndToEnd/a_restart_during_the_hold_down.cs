using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// The settling wait is a durable scheduled message and the seat is state in the stream: a server restart in the
/// middle of a hold-down neither forgets the wait nor reads as "everyone left".
/// </summary>
public sealed class a_restart_during_the_hold_down : IAsyncLifetime
{
    private ExternalBroker broker = null!;

    public async Task InitializeAsync() => broker = await ExternalBroker.StartAsync();

    public Task DisposeAsync() => broker.DisposeAsync().AsTask();

    [Fact]
    public async Task the_move_still_happens_after_the_restart()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("restart");
        var house = TestHouse.WithPolicy(("HoldDown", """{ "AttachDisplay": "0s", "LiveMigration": "4s", "SuspendResume": "4s" }"""));
        var first = await TestServer.StartAsync(broker, connectionString, nodeName: "first", houseJson: house);
        await using var basement = await TestAgents.StartAsync("basement", broker, first.Directory, ("alice-desktop", 2048));
        await using var imac = await TestAgents.StartAsync("imac", broker, first.Directory);
        await using var probe = await MqttProbe.ConnectAsync(broker, "probe-restart", "homeassistant", "presence/users/alice/state");
        await first.AgentsKnownAsync(["basement", "imac"], running: "alice-desktop");

        await using (var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"before-restart","user":"alice","state":"login"}""");
        }

        await WaitForAsync(first, saga => saga is { Settling: not null }, "the hold-down started");
        await first.DisposeAsync();

        await using var second = await TestServer.StartAsync(broker, connectionString, nodeName: "second", houseJson: house);
        await probe.WaitForAsync(
            m => m.Json.GetProperty("vm_host").GetString() == "imac", TimeSpan.FromSeconds(60), "alice's VM on the imac after the restart");

        await using var session = second.Store.QuerySession();
        var raw = await session.Events.FetchStreamAsync("alice");
        var stream = raw.Select(e => e.Data).ToList();
        Assert.Single(stream.OfType<SettlingStarted>());
        Assert.Single(stream.OfType<PlacementDecided>(), d => d.To == "imac" && d.Mode == PlacementMode.LiveMigration);

        // The first server started the wait and the second decided when it ran out: the wait crossed the restart.
        Assert.Equal("first", NodeOf(raw.Single(e => e.Data is SettlingStarted)));
        Assert.Equal("second", NodeOf(raw.Single(e => e.Data is PlacementDecided { Mode: PlacementMode.LiveMigration })));
        Assert.Equal("first", NodeOf(raw.Single(e => e.Data is PlacementDecided { Mode: PlacementMode.AttachDisplay })));
        Assert.Single(stream.OfType<MigrationCompleted>());
        Assert.DoesNotContain(stream.OfType<Presence.Domain.Seating.SeatChanged>(), s => s.Seat is null);
    }

    private static string? NodeOf(JasperFx.Events.IEvent e) => e.Headers?[Presence.Domain.Audit.AuditStamp.NodeHeader]?.ToString();

    private static async Task WaitForAsync(TestServer server, Func<UserSaga?, bool> condition, string what)
    {
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            return condition(await session.LoadAsync<UserSaga>("alice"));
        }, what);
    }
}
