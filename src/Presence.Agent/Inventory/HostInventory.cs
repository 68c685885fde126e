using Presence.Agent.Configuration;
using Presence.Contracts.Agents;

namespace Presence.Agent.Inventory;

/// <summary>What this computer tells the server it has: its resources from the options, its VMs from the driver.</summary>
internal static class HostInventory
{
    /// <summary>Memory a VM holds on this host: running and paused VMs, and incoming ones whose memory is reserved.</summary>
    public static bool HoldsMemory(VmState state) => state is VmState.Running or VmState.Paused or VmState.Incoming;

    /// <summary>Never negative: the contract has no way to say "over-committed".</summary>
    public static int FreeMemoryMb(int memoryMb, IEnumerable<VmInventory> vms) =>
        Math.Max(0, memoryMb - vms.Where(v => HoldsMemory(v.State)).Sum(v => v.MemoryMb));

    /// <param name="power">What the power supply says now; the options' values until someone reports a change.</param>
    public static AgentInventory Compose(AgentOptions options, IReadOnlyList<VmInventory> vms, PowerState power) => new()
    {
        Host = options.Host,
        Cpus = options.Resources.Cpus,
        MemoryMb = options.Resources.MemoryMb,
        MemoryFreeMb = FreeMemoryMb(options.Resources.MemoryMb, vms),
        OnBattery = power.OnBattery,
        BatteryPercent = power.BatteryPercent,
        LinkMbps = options.Resources.LinkMbps,
        Vms = vms,
    };
}

/// <summary>On battery or on mains, and the charge if the computer has a battery.</summary>
internal sealed record PowerState(bool OnBattery, int? BatteryPercent);
