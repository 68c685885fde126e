using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// A seat change waits its hold-down as a durable Wolverine scheduled message; when it fires and the user is still
/// there, the move goes ahead.
/// </summary>
public sealed class settling_before_a_move : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() =>
        house = await RunningHouse.StartAsync(
            TestHouse.WithPolicy(("HoldDown", """{ "AttachDisplay": "0s", "LiveMigration": "1s", "SuspendResume": "1s" }""")),
            ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task the_move_follows_once_the_hold_down_has_passed()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"hold-1","user":"alice","state":"login"}""");

        await house.Probe.WaitForAsync(
            m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's VM on the imac after the hold-down");

        var stream = (await house.StreamAsync("alice")).ToList();
        var settling = Assert.Single(stream.OfType<SettlingStarted>());
        Assert.Equal(("imac", PlacementMode.LiveMigration), (settling.Seat, settling.Mode));
        // Shown first, at once; only the move waited for the hold-down.
        var shown = Assert.Single(stream.OfType<PlacementDecided>(), d => d.Mode == PlacementMode.AttachDisplay);
        Assert.True(shown.At < settling.DueAt, "the display did not wait for the hold-down");
        var decided = Assert.Single(stream.OfType<PlacementDecided>(), d => d.Mode == PlacementMode.LiveMigration);
        Assert.True(decided.At >= settling.DueAt, "the move waited for the hold-down");
        Assert.True(stream.IndexOf(settling) < stream.IndexOf(decided));
        Assert.Single(stream.OfType<MigrationCompleted>());
    }
}
