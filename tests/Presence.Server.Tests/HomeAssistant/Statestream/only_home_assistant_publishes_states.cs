using Marten;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// The statestream base belongs to Home Assistant: the embedded broker refuses anyone else's publish there (a state
/// there becomes evidence), and a state Presence cannot read is reported on presence/errors once per entity, however
/// often Home Assistant repeats it.
/// </summary>
public sealed class only_home_assistant_publishes_states : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe watcher = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(houseJson: StatestreamHouse.Json());
        watcher = await MqttProbe.ConnectAsync(server.MqttPort, "watcher", "presence/errors");
    }

    public async Task DisposeAsync()
    {
        await watcher.DisposeAsync();
        await server.DisposeAsync();
    }

    private async Task<IReadOnlyList<Evidence>> AliceEvidenceAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence).ToList();
    }

    private async Task<IReadOnlyList<Evidence>> LaptopEvidenceAsync()
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync(HostState.StreamId("laptop"))).Select(e => e.Data).OfType<HostSignalRecorded>().Select(s => s.Evidence).ToList();
    }

    [Theory]
    [InlineData("presence-cli")]
    [InlineData("imac")]
    public async Task another_identity_is_refused(string identity)
    {
        await using var other = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{identity}-forger", identity);
        var result = await other.PublishAsync(StatestreamHouse.Topic("sensor.alice_room"), "office", retain: true);

        Assert.Equal(MQTTnet.MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        var error = await watcher.WaitForAsync(m => m.Payload.Contains("sensor/alice_room"), what: "the refusal");
        Assert.Contains("only Home Assistant ('homeassistant') publishes its states", error.Json.GetProperty("error").GetString());

        // Home Assistant's own word passes, and is the only one recorded.
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "home-assistant", "homeassistant");
        await homeAssistant.PublishAsync(StatestreamHouse.Topic("person.alice"), "home", retain: true);
        await Eventually.TrueAsync(async () => (await AliceEvidenceAsync()).Any(e => e.Kind == EvidenceKind.Zone), "Home Assistant's state recorded");
        Assert.DoesNotContain(await AliceEvidenceAsync(), e => e.Kind == EvidenceKind.Room);
    }

    [Fact]
    public async Task an_unreadable_state_is_reported_once_per_entity()
    {
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "home-assistant", "homeassistant");
        foreach (var _ in Enumerable.Range(0, 3))
        {
            await homeAssistant.PublishAsync(StatestreamHouse.Topic("sensor.imac_sessionstate"), "Sleeping", retain: true);
            await homeAssistant.PublishAsync(StatestreamHouse.Topic("sensor.laptop_battery_state"), "Discharging", retain: true);
            await homeAssistant.PublishAsync(StatestreamHouse.Topic("person.alice"), "unavailable", retain: true);
        }

        // Then readable states on the same topics, which arrive after the bad ones: once they are stored, every bad
        // one has been read.
        await homeAssistant.PublishAsync(StatestreamHouse.Topic("sensor.imac_sessionstate"), "Locked", retain: true);
        await homeAssistant.PublishAsync(StatestreamHouse.Topic("sensor.laptop_battery_state"), "Not Charging", retain: true);
        await homeAssistant.PublishAsync(StatestreamHouse.Topic("person.alice"), "home", retain: true);
        await Eventually.TrueAsync(async () => (await AliceEvidenceAsync()).Any(e => e.Detail(EvidenceDetails.Session.State) == EvidenceDetails.Session.Lock)
            && (await AliceEvidenceAsync()).Any(e => e.Kind == EvidenceKind.Zone)
            && (await LaptopEvidenceAsync()).Any(e => e.Detail(EvidenceDetails.Power.Ac) == EvidenceDetails.Power.False), "the readable states recorded");

        var errors = watcher.All.Where(m => m.Topic == "presence/errors").Select(m => m.Json.GetProperty("error").GetString()!).ToList();
        Assert.Single(errors, e => e.Contains("'Sleeping' of sensor.imac_sessionstate", StringComparison.Ordinal));
        Assert.Single(errors, e => e.Contains("'Discharging' of sensor.laptop_battery_state", StringComparison.Ordinal));
        Assert.Equal(2, errors.Count); // HA's "unavailable" is no error
        Assert.Contains("Charging, Full or Not Charging", errors.Single(e => e.Contains("Discharging", StringComparison.Ordinal)));
    }
}
