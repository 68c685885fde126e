using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Liveness;

public sealed class AgentLivenessTests(ITestOutputHelper output) : HouseTests(output)
{
    [Fact]
    public async Task Online_status_is_retained_once_started()
    {
        await house.StartAgentAsync("basement");

        var status = await house.RetainedStatusAsync("basement", AgentState.Online);

        Assert.Equal(Hypervisor.Simulated, status.Hypervisor);
        Assert.Equal(PresenceAgent.Version, status.AgentVersion);
    }

    [Fact]
    public async Task Inventory_is_retained_with_the_vms_and_the_memory_they_leave_free()
    {
        await house.StartAgentAsync("basement", House.Vm("alice-desktop", 8192), House.Vm("bob-desktop", 2048, "stopped"));

        var retained = await house.Broker.RetainedAsync(house.Topics.AgentInventory("basement"));
        var inventory = AgentInventory.Parse("basement", System.Text.Encoding.UTF8.GetBytes(retained!));

        Assert.Equal(4, inventory.Cpus);
        Assert.Equal(16384, inventory.MemoryMb);
        Assert.Equal(16384 - 8192, inventory.MemoryFreeMb);
        Assert.Equal(1000, inventory.LinkMbps);
        Assert.Null(inventory.BatteryPercent);
        Assert.Collection(inventory.Vms,
            alice => Assert.Equal(("alice-desktop", VmState.Running, 8192), (alice.Name, alice.State, alice.MemoryMb)),
            bob => Assert.Equal(("bob-desktop", VmState.Stopped, 2048), (bob.Name, bob.State, bob.MemoryMb)));
        Assert.Contains("\"battery_percent\":null", retained);
    }

    [Fact]
    public async Task A_status_and_inventory_the_broker_did_not_take_are_announced_again_without_reconnecting()
    {
        // Left unannounced while connected, the server would believe the computer offline until some reconnect.
        house.Broker.RefuseNext(house.Topics.AgentStatus("basement"), 2);
        house.Broker.RefuseNext(house.Topics.AgentInventory("basement"), 1);

        var agent = await house.StartAgentAsync("basement", House.Vm("alice-desktop", 8192));

        await house.RetainedStatusAsync("basement", AgentState.Online);
        await house.InventoryAsync("basement", i => i.Vms.Any(v => v.Name == "alice-desktop"), "alice-desktop running");
        Assert.Equal(0, house.Broker.RefusalsLeft(house.Topics.AgentStatus("basement")));
        Assert.Equal(0, house.Broker.RefusalsLeft(house.Topics.AgentInventory("basement")));
        Assert.True(agent.IsConnected);
        Assert.Equal(1, house.Broker.ConnectionsOf("presence-agent-basement"));
    }

    [Fact]
    public async Task An_inventory_after_a_change_that_the_broker_did_not_take_goes_out_again()
    {
        var agent = await house.StartAgentAsync("basement");
        var since = house.Watcher.Messages.Count;
        house.Broker.RefuseNext(house.Topics.AgentInventory("basement"), 1);

        await agent.SetPowerAsync(onBattery: true, batteryPercent: 40);

        await house.InventoryAsync("basement", i => i is { OnBattery: true, BatteryPercent: 40 }, "on battery at 40 %", since);
        Assert.Equal(0, house.Broker.RefusalsLeft(house.Topics.AgentInventory("basement")));
        Assert.Equal(1, house.Broker.ConnectionsOf("presence-agent-basement"));
    }

    [Fact]
    public async Task A_crashed_agent_is_reported_offline_by_its_last_will()
    {
        var agent = await house.StartAgentAsync("basement");

        await agent.SimulateCrashAsync();

        var status = await house.RetainedStatusAsync("basement", AgentState.Offline);
        Assert.Equal(Hypervisor.Simulated, status.Hypervisor);
    }

    [Fact]
    public async Task A_stopped_agent_leaves_offline_status_retained()
    {
        var agent = await house.StartAgentAsync("basement");

        await agent.StopAsync();

        await house.RetainedStatusAsync("basement", AgentState.Offline);
        // The broker drops a disconnected client on its own schedule, a moment after the goodbye (slower under load).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while ((await house.Broker.ClientIdsAsync()).Contains("presence-agent-basement") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.DoesNotContain("presence-agent-basement", await house.Broker.ClientIdsAsync());
    }

    [Fact]
    public async Task After_losing_the_broker_the_agent_reconnects_announces_itself_and_takes_commands()
    {
        var agent = await house.StartAgentAsync("basement", House.Vm("alice-desktop", 4096));
        var before = house.Watcher.Messages.Count;

        await house.Broker.KickAsync("presence-agent-basement");

        var status = house.Topics.AgentStatus("basement");
        var offline = await house.Watcher.WaitForAsync(m => m.Index >= before && m.Topic == status && m.Text.Contains("\"offline\""), "last will");
        await house.Watcher.WaitForAsync(m => m.Index > offline.Index && m.Topic == status && m.Text.Contains("\"online\""), "online again");
        await house.Watcher.WaitForAsync(m => m.Index > offline.Index && m.Topic == house.Topics.AgentInventory("basement"), "inventory again");

        await house.SendAsync("basement", new { command_id = "attach-1", type = "attach_display", vm = "carol-desktop", display_uri = "spice://basement:5903" });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("basement", "attach-1")).State);
        Assert.Equal("spice://basement:5903", agent.AttachedDisplays["carol-desktop"]);
    }

    [Fact]
    public async Task Unplugging_republishes_the_inventory_with_the_battery_state()
    {
        var options = house.Options("laptop", House.Vm("dave-desktop", 4096));
        options.Resources.BatteryPercent = 90;
        var agent = await house.StartAgentAsync(options);
        await house.InventoryAsync("laptop", i => !i.OnBattery && i.BatteryPercent == 90, "on mains at 90 %");

        await agent.SetPowerAsync(onBattery: true, batteryPercent: 80);

        var unplugged = await house.InventoryAsync("laptop", i => i.OnBattery, "on battery");
        Assert.Equal(80, unplugged.BatteryPercent);
        Assert.Equal(16384 - 4096, unplugged.MemoryFreeMb);
        Assert.Equal((true, 80), (agent.Inventory.OnBattery, agent.Inventory.BatteryPercent));
        var retained = AgentInventory.Parse("laptop", System.Text.Encoding.UTF8.GetBytes((await house.Broker.RetainedAsync(house.Topics.AgentInventory("laptop")))!));
        Assert.Equal((true, 80), (retained.OnBattery, retained.BatteryPercent));
    }

    [Fact]
    public async Task A_battery_charge_outside_0_to_100_is_refused()
    {
        var agent = await house.StartAgentAsync("laptop");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => agent.SetPowerAsync(onBattery: true, batteryPercent: 101));
        Assert.False(agent.Inventory.OnBattery);
    }
}
