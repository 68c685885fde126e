using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Liveness;

/// <summary>
/// Issue 10, every VM on exactly one host: an agent restarted after one of its VMs moved starts from where the VM
/// went, not from its configuration. Simulated VMs die with their agent, so here the restart boots them (or not).
/// </summary>
public sealed class RestartAfterAMoveTests(ITestOutputHelper output) : HouseTests(output)
{
    private const string Alice = "alice-desktop";

    [Fact]
    public async Task A_vm_that_migrated_away_is_not_booted_again_at_the_source_and_one_that_came_back_is()
    {
        var basementOptions = house.Options("basement", House.Vm(Alice, 2048));
        var imacOptions = house.Options("imac");
        var basement = await house.StartAgentAsync(basementOptions);
        var imac = await house.StartAgentAsync(imacOptions);
        await MoveAsync(Alice, "basement", "imac", "1");

        await basement.StopAsync();
        var since = house.Watcher.Messages.Count;
        basement = await house.StartAgentAsync(basementOptions);
        Assert.Empty(basement.Inventory.Vms);
        await house.InventoryAsync("basement", i => i.Vms.Count == 0, "alice absent from the restarted basement", since);

        // The target's configuration does not list alice at all: it arrived, and a restart keeps it there.
        await imac.StopAsync();
        since = house.Watcher.Messages.Count;
        imac = await house.StartAgentAsync(imacOptions);
        Assert.Equal(VmState.Running, Assert.Single(imac.Inventory.Vms, v => v.Name == Alice).State);
        await house.InventoryAsync("imac", i => i.Vms is [{ Name: Alice, State: VmState.Running, MemoryMb: 2048 }], "alice running on the restarted imac", since);

        // Moved back, it is the source's again across a restart.
        await MoveAsync(Alice, "imac", "basement", "2");
        await basement.StopAsync();
        await imac.StopAsync();
        since = house.Watcher.Messages.Count;
        basement = await house.StartAgentAsync(basementOptions);
        imac = await house.StartAgentAsync(imacOptions);
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);
        Assert.Empty(imac.Inventory.Vms);
        await house.InventoryAsync("basement", i => i.Vms is [{ Name: Alice, State: VmState.Running }], "alice running on basement again", since);
        await house.InventoryAsync("imac", i => i.Vms.Count == 0, "alice absent from imac", since);
    }

    [Fact]
    public async Task A_vm_suspended_here_and_resumed_elsewhere_is_not_booted_again_here()
    {
        var imacOptions = house.Options("imac", House.Vm(Alice, 2048));
        var laptopOptions = house.Options("laptop", House.Vm(Alice, 2048, "absent"));
        var imac = await house.StartAgentAsync(imacOptions);
        var laptop = await house.StartAgentAsync(laptopOptions);
        var file = Path.Combine(house.Scratch, "shared", $"{Alice}.json");

        await house.SendAsync("imac", new { command_id = "sus-1", type = "suspend", vm = Alice, to = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "sus-1")).State);
        await house.SendAsync("laptop", new { command_id = "res-1", type = "resume", vm = Alice, from = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("laptop", "res-1")).State);

        await imac.StopAsync();
        await laptop.StopAsync();
        imac = await house.StartAgentAsync(imacOptions);
        laptop = await house.StartAgentAsync(laptopOptions);

        Assert.Empty(imac.Inventory.Vms);
        Assert.Equal(VmState.Running, Assert.Single(laptop.Inventory.Vms).State);
    }

    [Fact]
    public async Task A_vm_only_suspended_stays_in_its_file_across_a_restart()
    {
        var options = house.Options("imac", House.Vm(Alice, 2048));
        var imac = await house.StartAgentAsync(options);

        await house.SendAsync("imac", new { command_id = "sus-2", type = "suspend", vm = Alice });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "sus-2")).State);
        await imac.StopAsync();
        imac = await house.StartAgentAsync(options);
        Assert.Empty(imac.Inventory.Vms);

        // Resumed here, it is here again: the next restart boots it.
        await house.SendAsync("imac", new { command_id = "res-2", type = "resume", vm = Alice });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "res-2")).State);
        await imac.StopAsync();
        imac = await house.StartAgentAsync(options);
        Assert.Equal(VmState.Running, Assert.Single(imac.Inventory.Vms).State);
    }

    private async Task MoveAsync(string vm, string from, string to, string n)
    {
        var since = house.Watcher.Messages.Count;
        await house.SendAsync(to, new { command_id = $"prep-{n}", type = "prepare_incoming", vm, memory_mb = 2048 });
        var ready = await house.EventAsync(to, $"prep-{n}", AgentEventState.Ready);
        await house.SendAsync(from, new { command_id = $"move-{n}", type = "migrate", vm, target_host = to, target_uri = ready.IncomingUri });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync(from, $"move-{n}")).State);
        await house.InventoryAsync(to, i => i.Vms.Any(v => v.Name == vm && v.State == VmState.Running), $"{vm} running on {to}", since);
    }
}
