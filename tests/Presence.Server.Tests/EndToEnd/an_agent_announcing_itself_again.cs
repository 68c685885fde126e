using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// An agent that says it is online again while a command waits for its answer (it restarted faster than its last
/// will, or reconnected) gets that command again with the same command_id, recorded as CommandResent; the agent's
/// journal answers a known id with the recorded outcome, so nothing runs twice.
/// </summary>
public sealed class an_agent_announcing_itself_again : IAsyncLifetime
{
    private RunningHouse house = null!;
    private MqttProbe silentImac = null!;

    public async Task InitializeAsync()
    {
        house = await RunningHouse.StartAsync(TestHouse.WithPolicy(("PrepareTimeout", "\"60s\"")), ("basement", [("alice-desktop", 2048)]));
        silentImac = await house.SilentAgentAsync("imac");
    }

    private Task AnnounceAsync(string id) => RunningHouse.AnnounceAsync(silentImac, "imac", id);

    public async Task DisposeAsync()
    {
        await silentImac.DisposeAsync();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task the_pending_prepare_is_sent_again_with_the_same_command_id()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        var first = await silentImac.WaitForAsync(m => m.Json.GetProperty("type").GetString() == "prepare_incoming", what: "prepare_incoming");
        var commandId = first.Json.GetProperty("command_id").GetString();

        await AnnounceAsync("status-2");

        var resent = await Eventually.GetAsync(
            async () => (await house.StreamAsync("alice")).OfType<CommandResent>().SingleOrDefault(),
            "CommandResent in alice's stream");
        Assert.Equal(commandId, resent.Command.CommandId);
        Assert.Equal(CommandKind.PrepareIncoming, resent.Command.Kind);
        await Eventually.TrueAsync(
            () => Task.FromResult(silentImac.All.Count(m => m.Json.GetProperty("command_id").GetString() == commandId) == 2),
            "the same prepare_incoming a second time");

        // Still one move, still waiting for the same answer.
        var saga = await house.SagaAsync("alice");
        Assert.Equal(resent.MoveId, saga!.Migration!.Id);
        Assert.Equal(commandId, saga.Migration.PrepareCommandId);
    }
}
