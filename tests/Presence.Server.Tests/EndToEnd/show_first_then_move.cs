using Presence.Domain.Migration;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.EndToEnd;

/// <summary>
/// Show first, then move, every link real: alice keeps her desktop local, and logs in at the iMac. Its agent is told
/// to show her desktop from the basement before anything moves; the VM then migrates there, and once the iMac's
/// inventory reports it running with its own display address, the iMac is told to show that one. Seen from the
/// iMac's agent: the commands it receives, in order, and what its screen shows.
/// </summary>
public sealed class show_first_then_move : IAsyncLifetime
{
    private RunningHouse house = null!;

    public async Task InitializeAsync() => house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    private IReadOnlyList<(string Type, string? DisplayUri)> ImacCommands() =>
        house.Probe.All.Where(m => m.Topic == "presence/agents/imac/commands")
            .Select(m => (m.Json.GetProperty("type").GetString()!,
                m.Json.TryGetProperty("display_uri", out var uri) && uri.ValueKind == System.Text.Json.JsonValueKind.String ? uri.GetString() : null))
            .ToList();

    [Fact]
    public async Task the_imac_shows_her_desktop_before_it_moves_and_switches_when_it_lands()
    {
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");

        await Eventually.TrueAsync(
            () => Task.FromResult(house.Agent("imac").AttachedDisplays.TryGetValue("alice-desktop", out var uri) && uri == "spice://imac:5901"),
            "the imac showing alice-desktop from itself");

        var commands = ImacCommands();
        Assert.Equal(("attach_display", "spice://basement:5901"), commands[0]);
        Assert.Equal("prepare_incoming", commands[1].Type);
        Assert.Equal(("attach_display", "spice://imac:5901"), commands[^1]);

        var stream = await house.StreamAsync("alice");
        var shown = stream.OfType<DisplayAttachRequested>().ToList();
        Assert.Equal(2, shown.Count);
        Assert.StartsWith("shown at once from basement; moving to imac, about", shown[0].Reason);
        Assert.Equal("alice-desktop runs on imac now: its screen switches from showing it from basement to the local display", shown[1].Reason);
    }
}
