using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// Sending a running VM to another host's waiting qemu, and the policy that gets it there:
/// <list type="bullet">
/// <item>the bandwidth is lifted to the command's (or the link's) and the downtime limit set, every time, because
/// QEMU keeps parameters between migrations;</item>
/// <item>pre-copy with auto-converge; after <see cref="QemuOptions.ConvergenceRounds"/> dirty-memory rounds
/// without converging the CPU is throttled harder, or, with <see cref="QemuOptions.Postcopy"/>, it switches to
/// post-copy;</item>
/// <item>cancelling runs <c>migrate_cancel</c> and the VM runs on here, except in post-copy, where the target
/// already runs it;</item>
/// <item>after success the source qemu is retired (<see cref="QemuInstances.RetireAsync"/>).</item>
/// </list>
/// </summary>
internal sealed class QemuOutgoingMigration(QemuInstances instances, AgentOptions options, ILogger logger)
{
    private const long BytesPerMbit = 125_000;

    /// <summary>QEMU's auto-converge starts throttling the guest's CPU at this percent, and adds this much per round.</summary>
    private static readonly MigrationParameters GentleThrottle = new() { CpuThrottleInitial = 20, CpuThrottleIncrement = 10 };

    private readonly QemuOptions qemu = options.Qemu;

    public async Task<MigrationResult> RunAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken)
    {
        var vm = instances.Claim(request.Vm, "migrated", VmState.Running);
        if (request.TargetHost == options.Host)
        {
            instances.Release(vm, VmState.Running);
            throw new HypervisorException($"{request.Vm} already runs on {options.Host}; target_host must be another host");
        }

        var qmp = vm.Qmp!;
        var bandwidth = (request.MaxBandwidthMbps ?? options.Resources.LinkMbps ?? 10_000) * BytesPerMbit;
        var downtime = request.DowntimeLimit ?? qemu.DowntimeLimit;
        try
        {
            await qmp.SetMigrationCapabilitiesAsync(new MigrationCapabilities(AutoConverge: true, PostcopyRam: qemu.Postcopy), CancellationToken.None);
            // Set every time: QEMU keeps parameters between migrations, and the last one may have throttled harder.
            await qmp.SetMigrationParametersAsync(GentleThrottle with
            {
                MaxBandwidth = Math.Max(bandwidth, BytesPerMbit),
                DowntimeLimit = (long)Math.Max(1, downtime.TotalMilliseconds),
            }, CancellationToken.None);
            await qmp.MigrateAsync(request.TargetUri, CancellationToken.None);
        }
        catch (Exception e)
        {
            await instances.RecoverSourceAsync(vm);
            throw QemuInstances.Explain(e, vm, $"cannot migrate {request.Vm} to {request.TargetHost}");
        }

        logger.LogInformation("Migrating {Vm} to {Target} at {Uri} (max {Mbps} Mbit/s, downtime {Downtime} ms)",
            request.Vm, request.TargetHost, request.TargetUri, bandwidth / BytesPerMbit, (long)downtime.TotalMilliseconds);

        var throttled = false;
        var cancelled = false;
        var postcopy = false;
        while (true)
        {
            // The agent was killed: qemu goes on sending by itself, and the next run of the agent settles it.
            if (instances.Abandoned)
            {
                throw new OperationCanceledException($"the agent on {options.Host} stopped following the migration of {request.Vm}");
            }

            // In post-copy the target already runs the guest: there is nothing left here to go back to.
            if (cancellationToken.IsCancellationRequested && !cancelled && !postcopy)
            {
                cancelled = true;
                logger.LogInformation("Cancelling the migration of {Vm}", request.Vm);
                await qmp.BestEffortAsync(QmpCommands.MigrateCancelAsync);
            }

            MigrationInfo info;
            try
            {
                info = await qmp.QueryMigrateAsync(CancellationToken.None);
            }
            catch (Exception e)
            {
                await instances.LostAsync(vm);
                throw QemuInstances.Explain(e, vm, $"{request.Vm} was lost while migrating to {request.TargetHost}");
            }

            switch (info.Status)
            {
                case "completed":
                    var result = new MigrationResult(
                        TimeSpan.FromMilliseconds(info.DowntimeMs ?? 0),
                        TimeSpan.FromMilliseconds(info.TotalTimeMs ?? 0));
                    await instances.RetireAsync(vm);
                    logger.LogInformation("{Vm} moved to {Target} (downtime {Downtime} ms, total {Total} ms)",
                        request.Vm, request.TargetHost, (long)result.Downtime.TotalMilliseconds, (long)result.TotalTime.TotalMilliseconds);
                    return result;

                case "failed" or "cancelled" when postcopy:
                    // Memory is split between the hosts: starting the source again would run a second, stale copy.
                    await instances.LostAsync(vm);
                    throw new HypervisorException(
                        $"post-copy migration of {request.Vm} to {request.TargetHost} failed: {info.ErrorDescription ?? "qemu gave no reason"}; it is stopped here and must be restarted");

                case "failed" or "cancelled":
                    await instances.RecoverSourceAsync(vm);
                    if (cancelled)
                    {
                        throw new OperationCanceledException($"the migration of {request.Vm} was cancelled; it runs on {options.Host}", cancellationToken);
                    }

                    var error = info.ErrorDescription ?? (info.Status == "cancelled" ? "cancelled inside qemu" : "qemu gave no reason");
                    throw new HypervisorException($"migration of {request.Vm} to {request.TargetHost} failed: {error}");
            }

            if (info.Ram is { } ram)
            {
                await reportProgress(new MigrationProgress
                {
                    TotalBytes = ram.Total,
                    TransferredBytes = ram.Transferred,
                    RemainingBytes = ram.Remaining,
                    DirtyPagesRate = ram.DirtyPagesRate,
                    Mbps = ram.Mbps,
                });

                if (!throttled && !cancelled && info.Status == "active" && ram.DirtySyncCount >= qemu.ConvergenceRounds)
                {
                    throttled = true;
                    if (qemu.Postcopy)
                    {
                        postcopy = await TryPostcopyAsync(qmp, request.Vm);
                        continue;
                    }

                    await ThrottleHarderAsync(qmp, request.Vm);
                }
            }

            try
            {
                await Task.Delay(qemu.PollInterval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Seen at the top of the loop: cancel, then keep polling until qemu says how it ended.
            }
        }
    }

    /// <summary>The migration has not converged: the target takes over the guest and pulls what is left (true when qemu agreed).</summary>
    private async Task<bool> TryPostcopyAsync(QmpClient qmp, string vm)
    {
        logger.LogInformation("{Vm} has not converged after {Rounds} rounds; switching to post-copy", vm, qemu.ConvergenceRounds);
        try
        {
            await qmp.StartPostcopyAsync(CancellationToken.None);
            return true;
        }
        catch (QmpException e)
        {
            logger.LogWarning("Post-copy refused for {Vm}: {Reason}; going on with pre-copy", vm, e.Description);
            return false;
        }
    }

    /// <summary>The migration has not converged: slow the guest down so it dirties memory slower than the link sends it.</summary>
    private async Task ThrottleHarderAsync(QmpClient qmp, string vm)
    {
        logger.LogInformation("{Vm} has not converged after {Rounds} rounds; throttling its CPU harder ({Initial}% +{Increment}%)",
            vm, qemu.ConvergenceRounds, qemu.StrongThrottleInitial, qemu.StrongThrottleIncrement);
        var strong = new MigrationParameters { CpuThrottleInitial = qemu.StrongThrottleInitial, CpuThrottleIncrement = qemu.StrongThrottleIncrement };
        await qmp.BestEffortAsync((q, ct) => q.SetMigrationParametersAsync(strong, ct));
    }
}
