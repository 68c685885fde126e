using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// A phase's timeout is a durable Wolverine message: the iMac's agent is online but never answers
/// prepare_incoming, so after PrepareTimeout the saga fails the move with the reason, tells the iMac to drop the
/// prepare (cancel) and stop waiting (abort_incoming), and the retained state shows the VM still on the basement server.
/// </summary>
public sealed class a_target_that_never_gets_ready : IAsyncLifetime
{
    private RunningHouse house = null!;
    private MqttProbe silentImac = null!;

    public async Task InitializeAsync()
    {
        house = await RunningHouse.StartAsync(
            TestHouse.WithPolicy(("PrepareTimeout", "\"2s\"")),
            ("basement", [("alice-desktop", 2048)]));

        // An agent that says it is online and has room, and then hears commands without ever answering them.
        silentImac = await house.SilentAgentAsync("imac");
    }

    public async Task DisposeAsync()
    {
        await silentImac.DisposeAsync();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task the_move_fails_on_its_timeout_and_the_vm_stays_on_the_source()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        var prepare = await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", what: "prepare_incoming");

        var failed = await Eventually.GetAsync(
            async () => (await house.StreamAsync("alice")).OfType<MigrationFailed>().SingleOrDefault(),
            "MigrationFailed in alice's stream", TimeSpan.FromSeconds(30));
        Assert.Equal(Phases.Preparing, failed.Phase);
        Assert.Equal("imac did not answer prepare_incoming within 2 s", failed.Reason);
        Assert.Equal("basement", failed.StillOn);

        var stream = await house.StreamAsync("alice");
        // The iMac was asked to show her desktop first (its own display timeout); the move's timeout is the prepare's.
        var timeout = Assert.Single(stream.OfType<PhaseTimeoutScheduled>(), t => t.Phase != Phases.Displaying);
        Assert.Equal((failed.MigrationId, Phases.Preparing), (timeout.MoveId, timeout.Phase));
        Assert.Equal(prepare.Json.GetProperty("command_id").GetString(), stream.OfType<IncomingRequested>().Single().CommandId);

        var cancel = await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "cancel", what: "cancel of the prepare");
        Assert.Equal(prepare.Json.GetProperty("command_id").GetString(), cancel.Json.GetProperty("of").GetString());
        var abort = await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "abort_incoming", what: "abort_incoming");
        Assert.Equal("alice-desktop", abort.Json.GetProperty("vm").GetString());
        Assert.Equal(failed.AbortCommandId, abort.Json.GetProperty("command_id").GetString());

        var saga = await house.SagaAsync("alice");
        Assert.Equal("basement", saga!.VmHost);
        Assert.Null(saga.Migration);

        // The retained state, as Home Assistant reads it after a restart: the VM is still on the basement server.
        await Eventually.TrueAsync(async () =>
        {
            await using var late = await MqttProbe.ConnectAsync(house.Server.MqttPort, $"probe-late-{Guid.NewGuid():N}", "presence/users/alice/state");
            var retained = await late.WaitForAsync(_ => true, TimeSpan.FromSeconds(5), "retained state");
            return retained.Json.GetProperty("vm_host").GetString() == "basement" && retained.Json.GetProperty("mode").GetString() != "moving";
        }, "retained state with alice's VM on basement, not moving");

        // The basement's simulated agent still runs the VM.
        Assert.Contains(house.Agent("basement").Inventory.Vms, v => v.Name == "alice-desktop");
    }
}
