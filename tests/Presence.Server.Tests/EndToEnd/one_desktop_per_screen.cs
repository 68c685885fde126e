using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// Leaving takes the session with it, every link real: alice (thin client) logs in at the iMac and it shows her
/// desktop; bob logs in at the same iMac, and its agent is told to stop showing alice's desktop before it is told to
/// show his; bob logs out, and his comes off too. Seen from the iMac's agent: the commands it receives, in order, and
/// what its screen shows after each step.
/// </summary>
public sealed class one_desktop_per_screen : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() => house = await RunningHouse.StartAsync(
        TestHouse.With(h =>
        {
            h["Users"]![0]!["PreferredMode"] = "ThinClient";
            h["Users"]![1]!["AllowedHosts"] = new System.Text.Json.Nodes.JsonArray("basement", "imac");
        }),
        ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    private IReadOnlyList<(string Type, string Vm)> ImacCommands() =>
        house.Probe.All.Where(m => m.Topic == "presence/agents/imac/commands")
            .Select(m => (m.Json.GetProperty("type").GetString()!, m.Json.GetProperty("vm").GetString()!))
            .ToList();

    private Task Session(string user, string state, string id) =>
        house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", $$"""{"id":"{{id}}","user":"{{user}}","state":"{{state}}","seat":"console"}""");

    private Task ScreenShows(params string[] vms) => Eventually.TrueAsync(
        () => Task.FromResult(house.Agent("imac").AttachedDisplays.Keys.Order().SequenceEqual(vms.Order())),
        $"the imac's screen showing [{string.Join(", ", vms)}]");

    /// <summary>The commands the iMac's agent was sent, once there are <paramref name="count"/> of them.</summary>
    private async Task<IReadOnlyList<(string Type, string Vm)>> ImacCommandsAsync(int count)
    {
        await Eventually.TrueAsync(() => Task.FromResult(ImacCommands().Count >= count), $"{count} commands to the imac");
        return ImacCommands();
    }

    [Fact]
    public async Task the_screen_shows_one_persons_desktop_and_none_after_they_leave()
    {
        await Session("alice", "login", "alice-login");
        await ScreenShows("alice-desktop");
        Assert.Equal([("attach_display", "alice-desktop")], await ImacCommandsAsync(1));

        await Session("bob", "login", "bob-login");
        await ScreenShows("bob-desktop");
        Assert.Equal(
            [("attach_display", "alice-desktop"), ("detach_display", "alice-desktop"), ("attach_display", "bob-desktop")],
            await ImacCommandsAsync(3));

        await Session("bob", "logout", "bob-logout");
        await ScreenShows();
        Assert.Equal(
            [("attach_display", "alice-desktop"), ("detach_display", "alice-desktop"), ("attach_display", "bob-desktop"), ("detach_display", "bob-desktop")],
            await ImacCommandsAsync(4));

        // Both stories are in the streams: alice's holds bob's login, which took the screen from her.
        var alice = await house.StreamAsync("alice");
        var detach = Assert.Single(alice.OfType<DisplayDetachRequested>());
        Assert.Equal(("imac", "bob sat down at imac"), (detach.Host, detach.Reason));
        Assert.Null((await house.SagaAsync("alice"))!.Seat);
        Assert.Equal("bob logged out at imac", Assert.Single((await house.StreamAsync("bob")).OfType<DisplayDetachRequested>()).Reason);
    }
}
