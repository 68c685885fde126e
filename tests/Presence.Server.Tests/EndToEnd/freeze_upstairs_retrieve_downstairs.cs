using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// Maintenance on the iMac while alice is away freezes her VM to shared storage; when she sits down in the basement
/// it wakes there.
/// </summary>
public sealed class freeze_upstairs_retrieve_downstairs : IAsyncLifetime
{
    private readonly string shared = PostgresCluster.NewScratchDirectory("shared");
    private RunningHouse house = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(shared);
        house = await RunningHouse.StartAsync(
            TestHouse.WithPolicy(("SharedStorage", $"\"{shared}\"")),
            ("imac", [("alice-desktop", 2048)]), ("basement", []));
    }

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task the_vm_is_frozen_on_the_imac_and_wakes_in_the_basement()
    {
        await using var homeAssistant = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-maintenance", "homeassistant");
        await homeAssistant.PublishAsync("presence/hosts/imac/maintenance", """{"id":"m-on","state":"on","reason":"new disk"}""");

        await house.Probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("mode").GetString() == "suspended",
            TimeSpan.FromSeconds(30), "alice's VM frozen");
        var suspend = await house.Probe.WaitForAsync(m => m.Topic == "presence/agents/imac/commands", what: "suspend on the imac");
        Assert.Equal("suspend", suspend.Json.GetProperty("type").GetString());
        Assert.StartsWith(shared, suspend.Json.GetProperty("to").GetString());

        await house.PublishAsHostAsync("basement", "presence/hosts/basement/signals/session", """{"id":"morning","user":"alice","state":"login"}""");

        await house.Probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "basement",
            TimeSpan.FromSeconds(30), "alice's VM awake in the basement");
        var stream = (await house.StreamAsync("alice")).ToList();
        Assert.Contains(stream.OfType<PlacementDecided>(), d => d.Rule == Rules.MaintenanceEvacuate && d.Mode == PlacementMode.SuspendResume);
        Assert.Single(stream.OfType<VmSuspended>());
        Assert.Contains(stream.OfType<PlacementDecided>(), d => d.Rule == Rules.ResumeAtSeat && d.To == "basement");
        Assert.Single(stream.OfType<VmResumed>(), r => r.Host == "basement");
    }
}
