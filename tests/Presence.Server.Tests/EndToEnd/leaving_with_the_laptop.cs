using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>Unplug, close the lid: the laptop's user finds the VM on the laptop, which stayed awake for it.</summary>
public sealed class leaving_with_the_laptop : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() =>
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("dave-desktop", 1024)]), ("laptop", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task unplugging_then_closing_the_lid_brings_the_vm_onto_the_laptop()
    {
        // dave works on the laptop in thin-client mode: the VM runs in the basement and the laptop shows it.
        await house.PublishAsHostAsync("laptop", "presence/hosts/laptop/signals/session", """{"id":"dave-in","user":"dave","state":"login"}""");
        await house.Probe.WaitForAsync(
            m => m.Topic == "presence/users/dave/state" && m.Json.GetProperty("seat_host").GetString() == "laptop",
            what: "dave seated at the laptop");

        await house.PublishAsHostAsync("laptop", "presence/hosts/laptop/signals/power", """{"id":"unplug","ac":false,"battery_percent":90}""");
        await house.PublishAsHostAsync("laptop", "presence/hosts/laptop/signals/lid", """{"id":"lid","state":"closed"}""");

        var prepare = await house.Probe.WaitForAsync(
            m => m.Topic == "presence/agents/laptop/commands" && m.Json.GetProperty("type").GetString() == "prepare_incoming",
            what: "prepare_incoming on the laptop");
        Assert.True(prepare.Json.GetProperty("inhibit_sleep").GetBoolean());

        await house.Probe.WaitForAsync(
            m => m.Topic == "presence/users/dave/state" && m.Json.GetProperty("vm_host").GetString() == "laptop",
            TimeSpan.FromSeconds(60), "dave's VM on the laptop");

        var stream = await house.StreamAsync("dave");
        var leaving = Assert.Single(stream.OfType<LeavingDetected>());
        Assert.Contains("unplugged", leaving.Reason);
        Assert.Contains(stream.OfType<PlacementDecided>(), d => d.Rule == Rules.LeavingWithLaptop && d.To == "laptop");
        Assert.Single(stream.OfType<MigrationCompleted>());

        // Once the VM runs there, the laptop may sleep again.
        await Eventually.TrueAsync(() => Task.FromResult(house.Agent("laptop").SleepInhibitedFor.Count == 0), "the inhibitor released");
    }
}
