using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors;

/// <summary>
/// What the agent needs from a hypervisor. One implementation per kind: <c>simulated</c>, <c>libvirt</c> (virsh);
/// <c>qemu</c> (QMP: <c>-incoming</c>, <c>migrate</c>, <c>query-migrate</c>, <c>migrate_cancel</c>) later.
/// <para>
/// A refusal or failure is a <see cref="HypervisorException"/> whose message is sent to the server as the
/// event's <c>error</c>; cancelling the token of <see cref="MigrateAsync"/> must leave the VM running here and end
/// with <see cref="OperationCanceledException"/>. After any failed or cancelled migration the VM runs where it ran.
/// </para>
/// </summary>
public interface IHypervisorDriver : IAsyncDisposable
{
    Hypervisor Kind { get; }

    /// <summary>Raised after any change to <see cref="ListVms"/>, so the agent can publish its inventory.</summary>
    event Action? VmsChanged;

    /// <summary>
    /// True when <see cref="StartAsync"/> boots (or adopts) the VMs <c>Agent:Vms</c> lists: then the agent keeps
    /// their whereabouts (<see cref="Whereabouts.VmWhereabouts"/>) and starts the driver from them. libvirt keeps
    /// its own domains, moved with the VM, and needs none of that.
    /// </summary>
    bool BootsFromConfiguration => true;

    /// <summary>Discovers (or, simulated, creates) the VMs of this computer.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    IReadOnlyList<VmInventory> ListVms();

    /// <summary>Gets ready to receive <paramref name="request"/>'s VM; returns the URI the source migrates to.</summary>
    Task<string> PrepareIncomingAsync(IncomingRequest request, CancellationToken cancellationToken);

    /// <summary>Stops waiting for an incoming VM and forgets it. Not an error when nothing is incoming.</summary>
    Task AbortIncomingAsync(string vm, CancellationToken cancellationToken);

    /// <summary>Live-migrates a running VM to another host's prepared incoming instance; removes it here on success.</summary>
    Task<MigrationResult> MigrateAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken);

    /// <summary>Saves the VM's state to <paramref name="path"/> and stops it here.</summary>
    Task SuspendAsync(string vm, string path, CancellationToken cancellationToken);

    /// <summary>Starts a VM here from the state saved at <paramref name="path"/>.</summary>
    Task ResumeAsync(string vm, string path, CancellationToken cancellationToken);

    /// <summary>
    /// The agent dies without a goodbye (<see cref="PresenceAgent.SimulateCrashAsync"/>): let go of the hypervisor as
    /// a killed process would. VMs that live in their own processes (qemu) are left exactly as they are, a migration
    /// in flight included; for VMs inside the agent (simulated) that is the same as disposing.
    /// </summary>
    ValueTask AbandonAsync() => DisposeAsync();
}

public sealed record IncomingRequest(string Vm, int MemoryMb, string? Definition);

public sealed record MigrationRequest(
    string Vm, string TargetHost, string TargetUri, int? MaxBandwidthMbps, TimeSpan? DowntimeLimit);

/// <summary>How a finished migration went; times as the hypervisor reports them.</summary>
public sealed record MigrationResult(TimeSpan Downtime, TimeSpan TotalTime);

/// <summary>A hypervisor operation that could not be done; the message is meant for people and ends up in the event's error.</summary>
public sealed class HypervisorException(string message, Exception? inner = null) : Exception(message, inner);
