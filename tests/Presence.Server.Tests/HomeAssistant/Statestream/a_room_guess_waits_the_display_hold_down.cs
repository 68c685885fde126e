using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// Weak evidence waits: with a display hold-down of two seconds, a room sensor putting alice in the office shows her
/// desktop on the iMac only once the wait has run out, while a console login would show it at once.
/// </summary>
public sealed class a_room_guess_waits_the_display_hold_down : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() => house = await RunningHouse.StartAsync(
        StatestreamHouse.Json(h =>
        {
            h["Users"]![0]!["PreferredMode"] = "ThinClient";
            h["Policy"]!["HoldDown"]!["AttachDisplay"] = "2s";
        }),
        ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task the_imac_shows_her_desktop_after_the_hold_down()
    {
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "home-assistant", "homeassistant");
        await homeAssistant.PublishAsync(StatestreamHouse.Topic("sensor.alice_room"), "office", retain: true);

        await Eventually.TrueAsync(() => Task.FromResult(house.Agent("imac").AttachedDisplays.ContainsKey("alice-desktop")), "the iMac showing alice's desktop");
        var stream = await house.StreamAsync("alice");
        var wait = Assert.Single(stream.OfType<SettlingStarted>());
        var attach = Assert.Single(stream.OfType<DisplayAttachRequested>());
        Assert.Equal(("imac", PlacementMode.AttachDisplay, NodaTime.Duration.FromSeconds(2)), (wait.Seat, wait.Mode, wait.HoldDown));
        Assert.True(attach.At >= wait.DueAt, $"attach_display at {attach.At}, before the hold-down ended at {wait.DueAt}");
    }
}
