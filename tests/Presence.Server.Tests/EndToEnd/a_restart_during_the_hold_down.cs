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

    private int port => broker.Port;

    public async Task InitializeAsync() => broker = await ExternalBroker.StartAsync();

    public Task DisposeAsync() => broker.DisposeAsync().AsTask();

    [Fact]
    public async Task the_move_still_happens_after_the_restart()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("restart");
        var house = TestHouse.WithPolicy(("HoldDown", """{ "AttachDisplay": "0s", "LiveMigration": "4s", "SuspendResume": "4s" }"""));
        var first = await TestServer.StartAsync(connectionString, externalBrokerPort: port, nodeName: "restart", houseJson: house);
        await using var basement = await TestAgents.StartAsync("basement", port, first.Directory, ("alice-desktop", 2048));
        await using var imac = await TestAgents.StartAsync("imac", port, first.Directory);
        await using var probe = await MqttProbe.ConnectAsync(port, "probe-restart", "presence/users/alice/state");
        await WaitForAsync(first, saga => saga is { VmHost: "basement" } || saga is null, "the agents known", requireHosts: true);

        await using (var emitter = await MqttProbe.ConnectAsAsync(port, "imac-emitter", "imac"))
        {
            await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"before-restart","user":"alice","state":"login"}""");
        }

        await WaitForAsync(first, saga => saga is { Settling: not null }, "the hold-down started");
        await first.DisposeAsync();

        await using var second = await TestServer.StartAsync(connectionString, externalBrokerPort: port, nodeName: "restart", houseJson: house);
        await probe.WaitForAsync(
            m => m.Json.GetProperty("vm_host").GetString() == "imac", TimeSpan.FromSeconds(60), "alice's VM on the imac after the restart");

        await using var session = second.Store.QuerySession();
        var stream = (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
        Assert.Single(stream.OfType<SettlingStarted>());
        Assert.Single(stream.OfType<PlacementDecided>(), d => d.To == "imac");
        Assert.Single(stream.OfType<MigrationCompleted>());
        Assert.DoesNotContain(stream.OfType<Presence.Domain.Seating.SeatChanged>(), s => s.Seat is null);
    }

    private static async Task WaitForAsync(TestServer server, Func<UserSaga?, bool> condition, string what, bool requireHosts = false)
    {
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            if (requireHosts && await Marten.QueryableExtensions.CountAsync(session.Query<Presence.Domain.Hosts.HostState>()) < 2)
            {
                return false;
            }

            return condition(await session.LoadAsync<UserSaga>("alice"));
        }, what);
    }
}
