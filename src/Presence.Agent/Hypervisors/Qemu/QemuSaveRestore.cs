using Microsoft.Extensions.Logging;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// Suspend and resume through a file: suspend stops the guest, writes the migration stream through
/// <c>exec:cat</c> (qemu 7.2 has no <c>file:</c> URI) and quits qemu; resume starts qemu with
/// <c>-incoming defer</c>, loads the stream and runs <c>cont</c>. The file, not a host, holds the VM in between.
/// </summary>
internal sealed class QemuSaveRestore(QemuInstances instances, TimeSpan pollInterval, ILogger logger)
{
    /// <summary>A save is no network migration: the cap QEMU has (its default, or the last migration's) would only slow it.</summary>
    private static readonly MigrationParameters Unlimited = new() { MaxBandwidth = long.MaxValue / 2 };

    public async Task SuspendAsync(string vm, string path, CancellationToken cancellationToken)
    {
        var claimed = instances.Claim(vm, "suspended", VmState.Running, VmState.Paused);
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp";
        var qmp = claimed.Qmp!;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await qmp.StopAsync(cancellationToken);
            instances.SetState(claimed, VmState.Paused);
            await qmp.SetMigrationCapabilitiesAsync(new MigrationCapabilities(AutoConverge: false), cancellationToken);
            await qmp.SetMigrationParametersAsync(Unlimited, cancellationToken);
            await qmp.MigrateAsync($"exec:cat > {ShellQuote(temporary)}", cancellationToken);
            await WaitForMigrationAsync(qmp, $"saving {vm} to '{path}'");
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e)
        {
            instances.TryDelete(temporary);
            await instances.RecoverSourceAsync(claimed);
            throw QemuInstances.Explain(e, claimed, $"cannot save {vm} to '{path}'");
        }

        // The saved state, not this host, now holds the VM: it may be resumed anywhere that can read the file.
        await instances.RetireAsync(claimed, keep: false);
        logger.LogInformation("{Vm} suspended to {Path}", vm, path);
    }

    public async Task ResumeAsync(string vm, string path, CancellationToken cancellationToken)
    {
        var config = instances.Config(vm) ?? throw new HypervisorException($"{vm} is not defined on {instances.Host}; list it in Agent:Vms (State absent)");
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new HypervisorException($"no saved state of {vm} at '{path}'");
        }

        var (resumed, fresh) = instances.Arrive(config, "resumed", replacesStopped: true);
        if (!fresh)
        {
            throw new HypervisorException($"{vm} is already on {instances.Host} ({QemuInstances.Wire(resumed.State)})");
        }

        instances.RaiseChanged();
        try
        {
            var qmp = await instances.LaunchAsync(resumed, ["-incoming", "defer"], cancellationToken);
            await qmp.MigrateIncomingAsync($"exec:cat {ShellQuote(full)}", cancellationToken);
            await WaitForMigrationAsync(qmp, $"loading {vm} from '{path}'");
            // Saved paused (suspend stops it first), so it stays paused until told to go on.
            await qmp.ContAsync(cancellationToken);
            var status = await qmp.QueryStatusAsync(cancellationToken);
            if (status != "running")
            {
                throw new HypervisorException($"{vm} is {status} after loading its saved state, not running");
            }
        }
        catch (Exception e)
        {
            await instances.ForgetAsync(resumed);
            throw QemuInstances.Explain(e, resumed, $"cannot resume {vm} from '{path}'");
        }

        instances.Release(resumed, VmState.Running);
        // Deleted once running, so the same saved state cannot start the VM on a second host.
        instances.TryDelete(full);
        logger.LogInformation("{Vm} resumed from {Path}", vm, path);
    }

    private async Task WaitForMigrationAsync(QmpClient qmp, string what)
    {
        while (true)
        {
            var info = await qmp.QueryMigrateAsync(CancellationToken.None);
            switch (info.Status)
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    throw new HypervisorException($"{what} failed: {info.ErrorDescription ?? "qemu gave no reason"}");
            }

            await Task.Delay(pollInterval);
        }
    }

    /// <summary>For <c>exec:</c> URIs, which qemu hands to /bin/sh.</summary>
    private static string ShellQuote(string path) => "'" + path.Replace("'", "'\\''") + "'";
}
