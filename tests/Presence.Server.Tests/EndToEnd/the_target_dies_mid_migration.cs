using Marten;
using Presence.Agent;
using Presence.Domain.Hosts;
using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// The iMac's agent crashes while the basement server sends it alice's VM (its last will says offline): the move
/// fails with the reason, the basement keeps the VM running, and the saga never claims it runs on the iMac.
/// </summary>
public sealed class the_target_dies_mid_migration : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe probe = null!;
    private PresenceAgent basement = null!;
    private PresenceAgent imac = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(houseJson: TestHouse.Json);
        probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-dies",
            "presence/users/+/state", "presence/agents/+/commands", "presence/agents/+/events", "presence/errors");

        // At the real link rate 2 GiB take many seconds to send: time enough to pull the plug on the target.
        basement = await TestAgents.StartAsync("basement", server.MqttPort, server.Directory, speedFactor: 1, ("alice-desktop", 2048));
        imac = await TestAgents.StartAsync("imac", server.MqttPort, server.Directory, speedFactor: 1);
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var hosts = await session.Query<HostState>().ToListAsync();
            return hosts.Count(h => h.AgentOnline && h.MemoryMb > 0) == 2;
        }, "both agents online with their inventories stored");
    }

    public async Task DisposeAsync()
    {
        await imac.DisposeAsync();
        await basement.DisposeAsync();
        await probe.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task the_vm_keeps_running_on_the_source_and_the_saga_says_why()
    {
        await probe.PublishAsync("presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        await probe.WaitForAsync(
            m => m.Topic == "presence/agents/basement/events" && m.Json.GetProperty("state").GetString() == "progress",
            TimeSpan.FromSeconds(30), "the basement sending alice-desktop");

        await imac.SimulateCrashAsync();

        MigrationFailed? failed = null;
        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            var stream = (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
            failed = stream.OfType<MigrationFailed>().SingleOrDefault();
            return failed is not null;
        }, "MigrationFailed in alice's stream", TimeSpan.FromSeconds(30));

        Assert.Equal(Phases.Migrating, failed!.Phase);
        Assert.Equal("basement", failed.StillOn);
        Assert.Contains("imac", failed.Reason);
        Assert.False(failed.WhereaboutsUncertain);

        await using (var session = server.Store.QuerySession())
        {
            var stream = (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).ToList();
            Assert.Empty(stream.OfType<MigrationCompleted>());
            var saga = await session.LoadAsync<Presence.Domain.Users.UserSaga>("alice");
            Assert.Equal("basement", saga!.VmHost);
            Assert.Null(saga.Migration);
        }

        // Its last will usually arrives before the basement notices the broken link: then the source is told to stop.
        if (failed.CancelCommandId is { } cancel)
        {
            var sent = await probe.WaitForAsync(
                m => m.Topic == "presence/agents/basement/commands" && m.Json.GetProperty("command_id").GetString() == cancel, what: "cancel");
            Assert.Equal("cancel", sent.Json.GetProperty("type").GetString());
            Assert.Equal(failed.CancelOf, sent.Json.GetProperty("of").GetString());
        }

        // The basement server still runs it: whether its send broke first or it was told to cancel.
        await Eventually.TrueAsync(
            () => Task.FromResult(basement.Inventory.Vms.Any(v => v.Name == "alice-desktop" && v.State == Presence.Contracts.Agents.VmState.Running)),
            "alice-desktop running on the basement again");
    }
}
