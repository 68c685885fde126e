using Presence.Agent.Configuration;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>One VM of this host as the qemu driver knows it: its configuration, state and the qemu that runs it.</summary>
internal sealed class QemuVm(VmOptions config, VmState state, string? displayUri)
{
    public VmOptions Config { get; } = config;
    public VmState State { get; set; } = state;
    public string? DisplayUri { get; } = displayUri;
    public QemuProcess? Process { get; set; }
    public QmpClient? Qmp { get; set; }
    public string? IncomingUri { get; set; }

    /// <summary>What is being done to the VM right now, or null.</summary>
    public volatile string? Busy;
}
