using Marten;
using MQTTnet;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// With an external broker, the ACL shipped in integrations/mosquitto/acl keeps the statestream base Home
/// Assistant's: another identity's state is refused (NotAuthorized) and never becomes evidence; Home Assistant's is.
/// </summary>
public sealed class only_home_assistant_publishes_states_at_mosquitto : IAsyncLifetime
{
    private ExternalBroker broker = null!;
    private TestServer server = null!;

    public async Task InitializeAsync()
    {
        broker = await ExternalBroker.StartAsync();
        server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("statestream_acl"), "statestream-acl", StatestreamHouse.Json());
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await broker.DisposeAsync();
    }

    private async Task<IReadOnlyList<Evidence>> AliceEvidenceAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence).ToList();
    }

    [Fact]
    public async Task another_identity_is_refused_and_home_assistant_is_heard()
    {
        await using var cli = await MqttProbe.ConnectAsync(broker, "cli-forger", "presence-cli");
        await using var imac = await MqttProbe.ConnectAsync(broker, "imac-forger", "imac");
        await using var homeAssistant = await MqttProbe.ConnectAsync(broker, "home-assistant", "homeassistant");

        var fromCli = await cli.PublishAsync(StatestreamHouse.Topic("sensor.alice_room"), "office", retain: true);
        var fromImac = await imac.PublishAsync(StatestreamHouse.Topic("sensor.imac_sessionstate"), "Unlocked", retain: true);
        var fromHomeAssistant = await homeAssistant.PublishAsync(StatestreamHouse.Topic("person.alice"), "not_home", retain: true);

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, fromCli.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, fromImac.ReasonCode);
        Assert.True(fromHomeAssistant.IsSuccess, fromHomeAssistant.ReasonString);
        await Eventually.TrueAsync(async () => (await AliceEvidenceAsync()).Any(e => e.Kind == EvidenceKind.Zone), "Home Assistant's state recorded");
        Assert.DoesNotContain(await AliceEvidenceAsync(), e => e.Kind is EvidenceKind.Room or EvidenceKind.Session);
    }
}
