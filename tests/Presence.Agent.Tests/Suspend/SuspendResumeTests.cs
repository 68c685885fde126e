using System.Text.Json;
using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Suspend;

/// <summary>"Freeze upstairs, retrieve downstairs": suspend to a file on one computer, resume it on another.</summary>
public sealed class SuspendResumeTests(ITestOutputHelper output) : HouseTests(output)
{
    [Fact]
    public async Task A_vm_suspended_on_one_computer_resumes_on_another()
    {
        var imac = await house.StartAgentAsync("imac", House.Vm("alice-desktop", 4096));
        var laptop = await house.StartAgentAsync("laptop");
        var file = Path.Combine(house.Scratch, "shared", "alice-desktop.state");

        await house.SendAsync("imac", new { command_id = "sus-1", type = "suspend", vm = "alice-desktop", to = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "sus-1")).State);

        await house.InventoryAsync("imac", i => i.Vms.Count == 0, "alice gone after suspend");
        using (var saved = JsonDocument.Parse(await File.ReadAllTextAsync(file)))
        {
            Assert.Equal("alice-desktop", saved.RootElement.GetProperty("vm").GetString());
            Assert.Equal(4096, saved.RootElement.GetProperty("memory_mb").GetInt32());
            Assert.True(saved.RootElement.TryGetProperty("saved_at", out _));
        }

        await house.SendAsync("laptop", new { command_id = "res-1", type = "resume", vm = "alice-desktop", from = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("laptop", "res-1")).State);

        var resumed = await house.InventoryAsync("laptop", i => i.Vms.Count == 1, "alice running");
        Assert.Equal(("alice-desktop", VmState.Running, 4096), (resumed.Vms[0].Name, resumed.Vms[0].State, resumed.Vms[0].MemoryMb));
        Assert.Equal(16384 - 4096, resumed.MemoryFreeMb);
        Assert.False(File.Exists(file), "the saved state is deleted once resumed, so it cannot start a second copy");
        Assert.Empty(imac.Inventory.Vms);
        Assert.Single(laptop.Inventory.Vms);
    }

    [Fact]
    public async Task Resuming_without_saved_state_fails()
    {
        await house.StartAgentAsync("laptop");

        await house.SendAsync("laptop", new { command_id = "res-2", type = "resume", vm = "alice-desktop", from = Path.Combine(house.Scratch, "missing.state") });

        var failed = await house.OutcomeAsync("laptop", "res-2");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.StartsWith("no saved state of alice-desktop", failed.Error);
    }

    [Fact]
    public async Task Without_a_location_the_state_is_kept_in_the_state_directory()
    {
        var basement = await house.StartAgentAsync("basement", House.Vm("alice-desktop", 4096));

        await house.SendAsync("basement", new { command_id = "sus-3", type = "suspend", vm = "alice-desktop" });
        await house.EventAsync("basement", "sus-3", AgentEventState.Completed);
        Assert.True(File.Exists(Path.Combine(basement.StateDirectory, "suspended", "alice-desktop.json")));

        await house.SendAsync("basement", new { command_id = "res-3", type = "resume", vm = "alice-desktop" });
        await house.EventAsync("basement", "res-3", AgentEventState.Completed);
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);
    }

    [Fact]
    public async Task Displays_are_attached_and_detached_on_this_seat()
    {
        var imac = await house.StartAgentAsync("imac");

        await house.SendAsync("imac", new { command_id = "att-4", type = "attach_display", vm = "alice-desktop", display_uri = "spice://basement:5901" });
        await house.EventAsync("imac", "att-4", AgentEventState.Completed);
        Assert.Equal("spice://basement:5901", imac.AttachedDisplays["alice-desktop"]);

        await house.SendAsync("imac", new { command_id = "det-4", type = "detach_display", vm = "alice-desktop" });
        await house.EventAsync("imac", "det-4", AgentEventState.Completed);
        Assert.Empty(imac.AttachedDisplays);
    }
}
