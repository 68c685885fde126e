using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Migration;

/// <summary>The two-phase move of DESIGN.md: prepare_incoming on the target, then migrate on the source.</summary>
public sealed class LiveMigrationTests(ITestOutputHelper output) : HouseTests(output)
{
    [Fact]
    public async Task A_vm_moves_from_source_to_target_with_progress_and_timings()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 2048));
        await house.StartAgentAsync("imac");

        await house.SendAsync("imac", new { command_id = "prep-1", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 2048 });
        var ready = await house.EventAsync("imac", "prep-1", AgentEventState.Ready);
        Assert.Matches(@"^tcp:127\.0\.0\.1:\d+$", ready.IncomingUri);
        var waiting = await house.InventoryAsync("imac", i => i.Vms.Any(v => v.State == VmState.Incoming), "alice incoming");
        Assert.Equal(16384 - 2048, waiting.MemoryFreeMb);

        await house.SendAsync("basement", new
        {
            command_id = "move-1", type = "migrate", vm = "alice-desktop",
            target_host = "imac", target_uri = ready.IncomingUri, mode = "live", max_bandwidth_mbps = 1000, downtime_limit_ms = 300,
        });
        var completed = await house.EventAsync("basement", "move-1", AgentEventState.Completed);

        var events = house.Events("basement", "move-1");
        Assert.Equal(AgentEventState.Accepted, events[0].State);
        Assert.Equal(AgentEventState.Completed, events[^1].State);
        var progress = events.Where(e => e.State == AgentEventState.Progress).Select(e => e.Progress!).ToList();
        Assert.True(progress.Count >= 2, $"expected progress events, got {progress.Count}");
        Assert.All(progress, p => Assert.Equal(2048L * 1024 * 1024, p.TotalBytes));
        Assert.Equal(progress.Select(p => p.TransferredBytes), progress.Select(p => p.TransferredBytes).Order());
        Assert.True(progress[^1].TransferredBytes > progress[0].TransferredBytes);
        Assert.Equal(0, progress[^1].RemainingBytes);
        Assert.True(completed.DowntimeMs > 0);
        Assert.True(completed.TotalTimeMs > completed.DowntimeMs);

        var source = await house.InventoryAsync("basement", i => i.Vms.Count == 0, "alice gone");
        Assert.Equal(16384, source.MemoryFreeMb);
        var target = await house.InventoryAsync("imac", i => i.Vms.Any(v => v.State == VmState.Running), "alice running");
        var alice = Assert.Single(target.Vms);
        Assert.Equal(("alice-desktop", 2048, "spice://imac:5901"), (alice.Name, alice.MemoryMb, alice.DisplayUri));
        Assert.Equal(16384 - 2048, target.MemoryFreeMb);
    }

    [Fact]
    public async Task Cancelling_a_migration_leaves_the_vm_running_on_the_source()
    {
        var slow = house.Options("basement", House.Vm("alice-desktop", 8192));
        slow.Simulated.SpeedFactor = 1; // about a minute of streaming: the cancel surely lands mid-way
        await house.StartAgentAsync(slow);
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-2", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 8192 });
        var ready = await house.EventAsync("imac", "prep-2", AgentEventState.Ready);

        await house.SendAsync("basement", new { command_id = "move-2", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = ready.IncomingUri });
        await house.EventAsync("basement", "move-2", AgentEventState.Progress);
        await house.SendAsync("basement", new { command_id = "cancel-2", type = "cancel", vm = "alice-desktop", of = "move-2" });

        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("basement", "cancel-2")).State);
        Assert.Equal(AgentEventState.Cancelled, (await house.OutcomeAsync("basement", "move-2")).State);
        var alice = Assert.Single(house.LatestInventory("basement").Vms);
        Assert.Equal(VmState.Running, alice.State);

        // The target still waits until told otherwise; abort_incoming frees its memory.
        await house.SendAsync("imac", new { command_id = "abort-2", type = "abort_incoming", vm = "alice-desktop" });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "abort-2")).State);
        var target = await house.InventoryAsync("imac", i => i.Vms.Count == 0, "incoming alice dropped");
        Assert.Equal(16384, target.MemoryFreeMb);
    }

    [Fact]
    public async Task Migrating_to_a_target_that_is_not_listening_fails_and_the_vm_stays()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 2048));

        await house.SendAsync("basement", new
        {
            command_id = "move-3", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = $"tcp:127.0.0.1:{TestBroker.FreePort()}",
        });

        var failed = await house.OutcomeAsync("basement", "move-3");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.Contains("cannot reach imac", failed.Error);
        Assert.Equal(VmState.Running, Assert.Single(house.LatestInventory("basement").Vms).State);
    }

    [Fact]
    public async Task An_aborted_incoming_breaks_the_migration_and_the_vm_stays_on_the_source()
    {
        var slow = house.Options("basement", House.Vm("alice-desktop", 8192));
        slow.Simulated.SpeedFactor = 1;
        var basement = await house.StartAgentAsync(slow);
        await house.StartAgentAsync("imac");
        await house.SendAsync("imac", new { command_id = "prep-4", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 8192 });
        var ready = await house.EventAsync("imac", "prep-4", AgentEventState.Ready);
        await house.SendAsync("basement", new { command_id = "move-4", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = ready.IncomingUri });
        await house.EventAsync("basement", "move-4", AgentEventState.Progress);

        await house.SendAsync("imac", new { command_id = "abort-4", type = "abort_incoming", vm = "alice-desktop" });

        var failed = await house.OutcomeAsync("basement", "move-4");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.Contains("lost", failed.Error);
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);
    }

    [Fact]
    public async Task A_vm_that_is_not_here_cannot_be_migrated()
    {
        await house.StartAgentAsync("basement");

        await house.SendAsync("basement", new { command_id = "move-5", type = "migrate", vm = "alice-desktop", target_host = "imac", target_uri = "tcp:127.0.0.1:1" });

        var failed = await house.OutcomeAsync("basement", "move-5");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.Equal("alice-desktop is not on basement", failed.Error);
    }

    [Fact]
    public async Task Prepare_incoming_refuses_a_vm_that_does_not_fit()
    {
        await house.StartAgentAsync("imac", House.Vm("dave-desktop", 12288));

        await house.SendAsync("imac", new { command_id = "prep-6", type = "prepare_incoming", vm = "alice-desktop", memory_mb = 8192 });

        var failed = await house.OutcomeAsync("imac", "prep-6");
        Assert.Equal(AgentEventState.Failed, failed.State);
        Assert.Equal("imac has 4096 MB free; alice-desktop needs 8192 MB", failed.Error);
    }
}
