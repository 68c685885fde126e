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

    /// <summary>
    /// Issue 10: the source quits its qemu after a completed migration (the production default), and its agent,
    /// restarted, must not boot the VM again from <c>Agent:Vms</c>; moved back, the VM is the source's again.
    /// </summary>
    [Fact]
    public async Task A_source_agent_restarted_after_a_completed_migration_starts_no_second_qemu_and_one_that_got_it_back_runs_it()
    {
        var basementOptions = lab.Options("basement", "running", q => q.KeepMigratedSource = false, house.Options("basement"));
        var imacOptions = lab.Options("imac", "absent", q => q.KeepMigratedSource = false, house.Options("imac"));
        var basement = await house.StartAgentAsync(basementOptions);
        var imac = await house.StartAgentAsync(imacOptions);
        await house.InventoryAsync("basement", i => i.Vms is [{ State: VmState.Running }], "alice running on basement");
        await MoveAsync("basement", "imac", "1");

        await basement.StopAsync();
        var qemusBefore = QemuPids();
        var since = house.Watcher.Messages.Count;
        basement = await house.StartAgentAsync(basementOptions);
        Assert.Empty(basement.Inventory.Vms);
        await house.InventoryAsync("basement", i => i.Vms.Count == 0, "alice absent from the restarted basement", since);
        Assert.Equal(qemusBefore, QemuPids());

        await MoveAsync("imac", "basement", "2");
        await basement.StopAsync();
        await imac.StopAsync();
        since = house.Watcher.Messages.Count;
        basement = await house.StartAgentAsync(basementOptions);
        imac = await house.StartAgentAsync(imacOptions);
        Assert.Equal(VmState.Running, Assert.Single(basement.Inventory.Vms).State);
        Assert.Empty(imac.Inventory.Vms);
        await house.InventoryAsync("basement", i => i.Vms is [{ State: VmState.Running }], "alice running on the restarted basement", since);
        Assert.Single(QemuPids());
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
    private async Task MoveAsync(string from, string to, string n)
    {
        var since = house.Watcher.Messages.Count;
        await house.SendAsync(to, new { command_id = $"prep-r{n}", type = "prepare_incoming", vm = QemuLab.Vm, memory_mb = QemuLab.MemoryMb });
        var ready = await house.EventAsync(to, $"prep-r{n}", AgentEventState.Ready);
        await house.SendAsync(from, new
        {
            command_id = $"move-r{n}", type = "migrate", vm = QemuLab.Vm, target_host = to, target_uri = ready.IncomingUri,
            mode = "live", downtime_limit_ms = 300,
        });
        Assert.Equal(AgentEventState.Completed, (await house.OutcomeAsync(from, $"move-r{n}")).State);
        await house.InventoryAsync(to, i => i.Vms is [{ State: VmState.Running }], $"alice running on {to}", since);
        await house.InventoryAsync(from, i => i.Vms.Count == 0, $"alice gone from {from}", since);
    }

    /// <summary>The qemus of this lab alive now, by the pid files they write (an agent's driver is out of the test's reach).</summary>
    private int[] QemuPids() =>
        Directory.EnumerateFiles(lab.Scratch, "*.pid", SearchOption.AllDirectories)
            .Select(f => int.TryParse(File.ReadAllText(f).Trim(), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Alive(pid))
            .Order()
            .ToArray();

    private static bool Alive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
