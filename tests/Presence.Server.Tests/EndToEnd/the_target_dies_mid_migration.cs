using Marten;
using Presence.Agent;
using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// The iMac's agent crashes while the basement server sends it alice's VM (its last will says offline): the move
/// fails with the reason, the basement keeps the VM running, and the saga never claims it runs on the iMac.
/// </summary>
public sealed class the_target_dies_mid_migration : IAsyncLifetime
{
    private RunningHouse house = null!;

    private TestServer server => house.Server;
    private MqttProbe probe => house.Probe;
    private PresenceAgent basement => house.Agent("basement");
    private PresenceAgent imac => house.Agent("imac");

    // At the real link rate 2 GiB take many seconds to send: time enough to pull the plug on the target.
    public async Task InitializeAsync() =>
        house = await RunningHouse.StartAsync(TestHouse.Json, agentSpeed: 1, ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task the_vm_keeps_running_on_the_source_and_the_saga_says_why()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
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
