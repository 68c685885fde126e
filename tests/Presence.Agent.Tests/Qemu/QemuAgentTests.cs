using Presence.Agent.Tests.Support;
using Presence.Contracts.Agents;
using Xunit.Abstractions;

namespace Presence.Agent.Tests.Qemu;

/// <summary>Two agents with <c>Agent:Hypervisor = qemu</c> move a real guest when the server's commands say so.</summary>
[Collection(QemuLab.Collection)]
public sealed class QemuAgentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private QemuLab lab = null!;
    private House house = null!;

    public async Task InitializeAsync()
    {
        lab = await QemuLab.StartAsync(output);
        house = await House.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await house.DisposeAsync();
        await lab.DisposeAsync();
    }

    [Fact]
    public async Task Agents_move_a_running_guest_between_qemus_on_the_servers_commands()
    {
        await house.StartAgentAsync(lab.Options("basement", "running", q => q.StopVmsOnExit = true, house.Options("basement")));
        var imac = await house.StartAgentAsync(lab.Options("imac", "absent", q => q.StopVmsOnExit = true, house.Options("imac")));
        await house.InventoryAsync("basement", i => i.Vms is [{ State: VmState.Running }], "alice running on basement");
        Assert.Empty(imac.Inventory.Vms);

        await house.SendAsync("imac", new { command_id = "prep-q1", type = "prepare_incoming", vm = QemuLab.Vm, memory_mb = QemuLab.MemoryMb });
        var ready = await house.EventAsync("imac", "prep-q1", AgentEventState.Ready);
        Assert.Matches(@"^tcp:127\.0\.0\.1:\d+$", ready.IncomingUri);
        await house.InventoryAsync("imac", i => i.Vms is [{ State: VmState.Incoming }], "alice incoming on imac");

        await house.SendAsync("basement", new
        {
            command_id = "move-q1", type = "migrate", vm = QemuLab.Vm, target_host = "imac", target_uri = ready.IncomingUri,
            mode = "live", max_bandwidth_mbps = 20, downtime_limit_ms = 300,
        });
        var completed = await house.OutcomeAsync("basement", "move-q1");

        Assert.Equal(AgentEventState.Completed, completed.State);
        Assert.NotNull(completed.DowntimeMs);
        Assert.True(completed.TotalTimeMs > 0);
        Assert.Contains(house.Events("basement", "move-q1"), e => e.State == AgentEventState.Progress && e.Progress?.TransferredBytes > 0);
        await house.InventoryAsync("imac", i => i.Vms is [{ State: VmState.Running }], "alice running on imac");
        await house.InventoryAsync("basement", i => i.Vms.Count == 0, "alice gone from basement");
    }

    [Fact]
    public async Task Agents_suspend_a_guest_on_one_computer_and_resume_it_on_another()
    {
        await house.StartAgentAsync(lab.Options("imac", "running", q => q.StopVmsOnExit = true, house.Options("imac")));
        await house.StartAgentAsync(lab.Options("laptop", "absent", q => q.StopVmsOnExit = true, house.Options("laptop")));
        var file = Path.Combine(lab.Scratch, "shared", "alice-desktop.state");

        await house.SendAsync("imac", new { command_id = "sus-q1", type = "suspend", vm = QemuLab.Vm, to = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("imac", "sus-q1")).State);
        await house.InventoryAsync("imac", i => i.Vms.Count == 0, "alice gone from imac");

        await house.SendAsync("laptop", new { command_id = "res-q1", type = "resume", vm = QemuLab.Vm, from = file });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync("laptop", "res-q1")).State);
        await house.InventoryAsync("laptop", i => i.Vms is [{ State: VmState.Running, MemoryMb: QemuLab.MemoryMb }], "alice running on laptop");
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task A_forged_migrate_streams_nothing_out_of_a_real_guest()
    {
        var basement = await house.StartAgentAsync(lab.Options("basement", "running", q => q.StopVmsOnExit = true, house.Options("basement")));
        await house.InventoryAsync("basement", i => i.Vms is [{ State: VmState.Running }], "alice running on basement");
        using var thief = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        thief.Start();
        var port = ((System.Net.IPEndPoint)thief.LocalEndpoint).Port;

        await house.SendUnsignedAsync("basement", System.Text.Json.JsonSerializer.Serialize(new
        {
            command_id = "11111111-2222-3333-4444-555555555555", type = "migrate", vm = QemuLab.Vm, target_host = "imac",
            target_uri = $"tcp:127.0.0.1:{port}", mode = "live", max_bandwidth_mbps = 1000, downtime_limit_ms = 300,
        }));

        var refused = await house.OutcomeAsync("basement", "11111111-2222-3333-4444-555555555555");
        Assert.Equal(AgentEventState.Failed, refused.State);
        Assert.Contains("not signed by this house's server", refused.Error);
        Assert.False(thief.Pending(), "qemu connected to the address the forged migrate named");
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);
    }
}
