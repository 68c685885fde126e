using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Words;
using Presence.Server.Tests.Infrastructure;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// Home Assistant as a signal source, every link real: mqtt_statestream's plain-string, retained states, published as
/// the homeassistant identity to the embedded broker, become weak evidence in alice's stream; her seat and the iMac's
/// screen follow them, and a console login still wins.
/// </summary>
public sealed class home_assistant_tells_who_is_where : IAsyncLifetime
{
    private RunningHouse house = null!;
    private MqttProbe homeAssistant = null!;

    public async Task InitializeAsync()
    {
        house = await RunningHouse.StartAsync(
            StatestreamHouse.Json(h => h["Users"]![0]!["PreferredMode"] = "ThinClient"),
            ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024)]), ("imac", []));
        homeAssistant = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "home-assistant", "homeassistant");
    }

    public async Task DisposeAsync()
    {
        await homeAssistant.DisposeAsync();
        await house.DisposeAsync();
    }

    /// <summary>As mqtt_statestream publishes it: the plain state, retained, QoS 1.</summary>
    private Task StateAsync(string entity, string state) => homeAssistant.PublishAsync(StatestreamHouse.Topic(entity), state, retain: true);

    private async Task<Evidence> RecordedAsync(string entity, string detail, string value)
    {
        Evidence? found = null;
        await Eventually.TrueAsync(async () =>
        {
            found = (await house.StreamAsync("alice")).OfType<SignalRecorded>().Select(s => s.Evidence)
                .LastOrDefault(e => e.Detail(Origin.Entity) == entity && e.Detail(detail) == value);
            return found is not null;
        }, $"{entity} saying {detail}={value} recorded in alice's stream");
        return found!;
    }

    [Fact]
    public async Task a_room_sensor_seats_her_weakly_and_the_imac_shows_her_desktop()
    {
        await StateAsync("sensor.alice_room", "office");

        var room = await RecordedAsync("sensor.alice_room", Room.Name, "office");
        Assert.Equal((EvidenceKind.Room, "imac", Origin.HomeAssistant), (room.Kind, room.Host, room.Detail(Origin.Source)));
        Assert.Equal(Strength.Weak, EvidenceStrength.Claimed(room));
        Assert.Equal("room near imac by alice (room=office), from Home Assistant's sensor.alice_room, weak", EventText.Signal(room));

        await Eventually.TrueAsync(() => Task.FromResult(house.Agent("imac").AttachedDisplays.ContainsKey("alice-desktop")), "the iMac showing alice's desktop");
        var saga = (await house.SagaAsync("alice"))!;
        Assert.Equal(("imac", EvidenceStrength.RoomConfidence), (saga.Seat, saga.SeatConfidence));
        Assert.Contains((await house.StreamAsync("alice")).OfType<Presence.Domain.Placement.PlacementDecided>(), d => d.To == "imac");

        // HASS.Agent's session sensor: Unlocked at the iMac, weak too: she stays there, no surer than the sensor.
        await StateAsync("sensor.imac_sessionstate", "Unlocked");
        var unlock = await RecordedAsync("sensor.imac_sessionstate", Session.State, Session.Unlock);
        Assert.Equal((EvidenceKind.Session, "imac"), (unlock.Kind, unlock.Host));
        Assert.Equal("imac", (await house.SagaAsync("alice"))!.Seat);

        // Her phone leaves the house: a seat only guessed is given up.
        await StateAsync("person.alice", "not_home");
        await RecordedAsync("person.alice", Zone.Name, Zone.NotHome);
        await Eventually.TrueAsync(async () => (await house.SagaAsync("alice"))!.Seat is null, "alice at no computer");
    }

    [Fact]
    public async Task weak_evidence_never_beats_a_console_login()
    {
        await house.PublishAsHostAsync("basement", "presence/hosts/basement/signals/session",
            """{"id":"console-login","user":"alice","state":"login","seat":"console"}""");
        await Eventually.TrueAsync(async () => (await house.SagaAsync("alice"))?.Seat == "basement", "alice seated at the basement");

        await StateAsync("sensor.alice_room", "office");
        await StateAsync("sensor.imac_sessionstate", "Unlocked");
        await StateAsync("person.alice", "work");
        await RecordedAsync("sensor.alice_room", Room.Name, "office");
        await RecordedAsync("sensor.imac_sessionstate", Session.State, Session.Unlock);
        await RecordedAsync("person.alice", Zone.Name, "work");

        var saga = (await house.SagaAsync("alice"))!;
        Assert.Equal(("basement", EvidenceStrength.CertainConfidence), (saga.Seat, saga.SeatConfidence));
        Assert.DoesNotContain(house.Probe.All, m => m.Topic == "presence/agents/imac/commands");
        Assert.Empty(house.Agent("imac").AttachedDisplays);
    }

    [Fact]
    public async Task the_same_state_again_is_no_news()
    {
        // mqtt_statestream republishes the state on every attribute change (the room sensor's distance).
        await StateAsync("sensor.alice_room", "office");
        await StateAsync("sensor.alice_room", "office");
        await StateAsync("sensor.alice_room", "Server room");
        await RecordedAsync("sensor.alice_room", Room.Name, "Server room");

        var rooms = (await house.StreamAsync("alice")).OfType<SignalRecorded>().Where(s => s.Evidence.Kind == EvidenceKind.Room).ToList();
        Assert.Equal(["office", "Server room"], rooms.Select(r => r.Evidence.Detail(Room.Name)));
    }
}
