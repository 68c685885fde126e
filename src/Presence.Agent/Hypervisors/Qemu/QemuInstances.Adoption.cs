using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>What a restarted agent found on a VM's QMP socket.</summary>
internal enum Adoption
{
    /// <summary>No qemu of the VM answers (or only a leftover that was quit): the VM is not running here.</summary>
    None,

    /// <summary>Its qemu runs (or is paused) and is this agent's again.</summary>
    Adopted,

    /// <summary>Its qemu sent the VM to another host while the agent was away: the VM runs there, not here.</summary>
    MovedAway,
}

internal sealed partial class QemuInstances
{
    private static readonly string[] OutgoingUnderWay = ["setup", "active", "pre-switchover", "device", "wait-unplug", "cancelling"];

    /// <summary>
    /// A qemu left running by an earlier run of the agent still answers on the VM's socket: take it over rather
    /// than start a second one on the same disks. Only a running or paused one is kept; not being a child of this
    /// process, its end is seen as its QMP socket closing. An agent killed mid-migration leaves its qemu sending
    /// the VM on its own: nobody follows that migration any more (the server gave up on it when the agent went
    /// offline), so it is cancelled and the VM runs here; had it already finished, the VM runs on the target and
    /// is not here (<see cref="Adoption.MovedAway"/>), and starting it afresh would run it twice.
    /// </summary>
    public async Task<Adoption> TryAdoptAsync(QemuVm vm, CancellationToken cancellationToken)
    {
        var socket = SocketOf(vm.Config);
        if (!File.Exists(socket))
        {
            return Adoption.None;
        }

        QmpClient qmp;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            qmp = await QmpClient.ConnectAsync(socket, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Adoption.None;
        }

        string? status;
        string migration;
        try
        {
            migration = await EndOrphanedMigrationAsync(qmp, vm.Config.Name, cancellationToken);
            status = await qmp.QueryStatusAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or QmpException)
        {
            await qmp.DisposeAsync();
            return Adoption.None;
        }

        if (status is "running" or "paused")
        {
            vm.Qmp = qmp;
            vm.State = status == "running" ? VmState.Running : VmState.Paused;
            qmp.EventReceived += e => OnQmpEvent(vm, e);
            qmp.Closed += () => OnGone(vm, null, qmp);
            logger.LogInformation("{Vm} was already running (qemu {Status} at {Socket}); adopted", vm.Config.Name, status, socket);
            return Adoption.Adopted;
        }

        if (migration.StartsWith("postcopy", StringComparison.Ordinal))
        {
            // The target runs the guest and still pulls pages from this qemu: ending it would lose the VM.
            logger.LogWarning("{Vm} is in post-copy to another host (qemu at {Socket}); it runs there, and this qemu is left to finish", vm.Config.Name, socket);
            await qmp.DisposeAsync();
            return Adoption.MovedAway;
        }

        var movedAway = status == "postmigrate" && migration == "completed";
        if (movedAway)
        {
            logger.LogWarning("{Vm} was sent to another host while the agent was away (qemu at {Socket}); it runs there, not here", vm.Config.Name, socket);
        }
        else
        {
            // Left over from a migration or a save (inmigrate…): it holds nothing to keep.
            logger.LogWarning("{Vm}: a leftover qemu in state {Status} at {Socket} is quit before starting afresh", vm.Config.Name, status, socket);
        }

        await QuitAsync(qmp, null);
        await qmp.DisposeAsync();
        return movedAway ? Adoption.MovedAway : Adoption.None;
    }

    /// <summary>Cancels an outgoing migration nobody follows any more and waits until qemu says how it ended.</summary>
    private async Task<string> EndOrphanedMigrationAsync(QmpClient qmp, string vm, CancellationToken cancellationToken)
    {
        var status = (await qmp.QueryMigrateAsync(cancellationToken)).Status;
        if (!OutgoingUnderWay.Contains(status))
        {
            return status;
        }

        logger.LogWarning("{Vm} was being sent away when the agent stopped ({Status}); cancelling that migration so it runs here", vm, status);
        await qmp.MigrateCancelAsync(cancellationToken);
        var deadline = DateTime.UtcNow + qemu.StartTimeout;
        while (OutgoingUnderWay.Contains(status))
        {
            if (DateTime.UtcNow > deadline)
            {
                // Adopted as it is rather than given up on: starting a second qemu on the same disks is worse.
                logger.LogError("The migration of {Vm} was still {Status} {Timeout} after migrate_cancel", vm, status, qemu.StartTimeout);
                return status;
            }

            await Task.Delay(qemu.PollInterval, cancellationToken);
            status = (await qmp.QueryMigrateAsync(cancellationToken)).Status;
        }

        return status;
    }
}
