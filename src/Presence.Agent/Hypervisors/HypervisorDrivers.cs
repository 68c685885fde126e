using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Hypervisors.Qemu;
using Presence.Agent.Hypervisors.Libvirt;
using Presence.Agent.Hypervisors.Simulated;
using Presence.Agent.Processes;

namespace Presence.Agent.Hypervisors;

internal static class HypervisorDrivers
{
    /// <summary>The driver named by <see cref="AgentOptions.Hypervisor"/>; the validator has already refused the ones not written yet.</summary>
    /// <param name="logger">The agent's own: with several agents in one process, the host in the category tells them apart.</param>
    public static IHypervisorDriver Create(AgentOptions options, IClock clock, ILogger logger) => options.Hypervisor switch
    {
        "simulated" => new SimulatedDriver(options, clock, logger),
        "qemu" => new QemuDriver(options, logger),
        "libvirt" => new LibvirtDriver(options, ProcessRunner.Instance, logger),
        _ => throw new AgentOptionsException($"Agent:Hypervisor '{options.Hypervisor}' has no driver"),
    };
}
