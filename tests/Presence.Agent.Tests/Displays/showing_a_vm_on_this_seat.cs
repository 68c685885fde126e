using Microsoft.Extensions.Logging.Abstractions;
using Presence.Agent.Displays;
using Presence.Agent.Hypervisors;
using Presence.Agent.Tests.Support;

namespace Presence.Agent.Tests.Displays;

/// <summary>attach_display runs the configured viewer with the VM's address; detach_display ends it.</summary>
public class showing_a_vm_on_this_seat
{
    private static readonly string[] Viewer = ["remote-viewer", "--full-screen", "--title", "{vm}", "{uri}"];

    [Fact]
    public async Task attaching_starts_the_viewer_with_the_address_and_detaching_ends_it()
    {
        var runner = new RecordingRunner { Installed = { "remote-viewer" } };
        var seat = new DisplaySeat(NullLogger.Instance, runner, Viewer);

        await seat.AttachAsync("alice-desktop", "spice://basement:5901");
        var viewer = Assert.Single(runner.Started);
        Assert.Equal("remote-viewer --full-screen --title alice-desktop spice://basement:5901", viewer.Line);
        Assert.Equal("spice://basement:5901", seat.Attached["alice-desktop"]);

        await seat.DetachAsync("alice-desktop");
        Assert.True(viewer.Killed);
        Assert.Empty(seat.Attached);
    }

    [Fact]
    public async Task a_new_address_replaces_the_viewer()
    {
        var runner = new RecordingRunner { Installed = { "remote-viewer" } };
        var seat = new DisplaySeat(NullLogger.Instance, runner, Viewer);

        await seat.AttachAsync("alice-desktop", "spice://basement:5901");
        await seat.AttachAsync("alice-desktop", "spice://imac:5901");

        Assert.Equal(2, runner.Started.Count);
        Assert.True(runner.Started[0].Killed);
        Assert.False(runner.Started[1].Killed);
        Assert.EndsWith("spice://imac:5901", runner.Started[1].Line);
    }

    [Fact]
    public async Task a_missing_viewer_fails_the_attach_with_the_setting_named()
    {
        var seat = new DisplaySeat(NullLogger.Instance, new RecordingRunner(), Viewer);

        var error = await Assert.ThrowsAsync<HypervisorException>(() => seat.AttachAsync("alice-desktop", "spice://basement:5901"));
        Assert.Contains("remote-viewer", error.Message);
        Assert.Contains("Agent:Display:Viewer", error.Message);
        Assert.Empty(seat.Attached);
    }

    [Fact]
    public async Task without_a_viewer_the_attachment_is_only_recorded()
    {
        var runner = new RecordingRunner();
        var seat = new DisplaySeat(NullLogger.Instance, runner);

        await seat.AttachAsync("alice-desktop", "spice://basement:5901");
        await seat.DetachAsync("nothing-here");

        Assert.Empty(runner.Started);
        Assert.Equal("spice://basement:5901", seat.Attached["alice-desktop"]);
    }
}
