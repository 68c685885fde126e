using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Agent.Inventory;
using Presence.Agent.Processes;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Hypervisors.Libvirt;

/// <summary>An outgoing live migration through virsh: its arguments, following its job to the end, and aborting it.</summary>
internal sealed partial class LibvirtDriver
{
    private IReadOnlyList<string> MigrateArguments(MigrationRequest request)
    {
        List<string> arguments =
        [
            "-c", libvirt.ConnectionUri,
            "migrate", "--live", "--persistent", "--undefinesource", "--verbose", request.Vm, request.TargetUri,
        ];
        if (libvirt.MigrateUriTemplate is { Length: > 0 } template)
        {
            arguments.AddRange(["--migrateuri", template.Replace("{host}", request.TargetHost, StringComparison.Ordinal)]);
        }

        if (request.MaxBandwidthMbps is { } mbps)
        {
            // virsh takes MiB/s; never 0, which libvirt reads as "no limit".
            arguments.AddRange(["--bandwidth", Invariant(Math.Max(1, (long)(mbps * 1_000_000.0 / 8 / (1024 * 1024))))]);
        }

        if (libvirt.MigrationTimeout is { } timeout)
        {
            arguments.AddRange(["--timeout", Invariant((long)Math.Ceiling(timeout.TotalSeconds))]);
        }

        return arguments;
    }

    /// <summary>Polls domjobinfo while virsh migrate runs; on cancellation aborts the job and waits for virsh to give up.</summary>
    private async Task<CommandResult> FollowAsync(
        MigrationRequest request,
        Task<CommandResult> migration,
        Func<MigrationProgress, Task> reportProgress,
        CancellationTokenSource hardStop,
        CancellationToken cancellationToken)
    {
        var downtimeSet = request.DowntimeLimit is null;
        lastDowntime = null;
        MigrationProgress? last = null;
        while (!migration.IsCompleted)
        {
            try
            {
                await Task.WhenAny(migration, Task.Delay(libvirt.ProgressInterval, cancellationToken));
            }
            catch (OperationCanceledException)
            {
            }

            if (cancellationToken.IsCancellationRequested)
            {
                await AbortJobAsync(request.Vm, migration, hardStop);
                var aborted = await migration;
                if (aborted.Succeeded)
                {
                    // Too late: the VM had already switched over. Reported as done, never as cancelled.
                    return aborted;
                }

                throw new OperationCanceledException($"migration of {request.Vm} was aborted", cancellationToken);
            }

            if (migration.IsCompleted)
            {
                break;
            }

            var info = await TryJobInfoAsync(request.Vm);
            if (info is not { Active: true })
            {
                continue;
            }

            // Only takes effect on a running job with older libvirt, hence here rather than before starting.
            if (!downtimeSet)
            {
                var ms = Invariant((long)request.DowntimeLimit!.Value.TotalMilliseconds);
                var set = await RunVirshAsync(["migrate-setmaxdowntime", request.Vm, ms], CancellationToken.None);
                downtimeSet = set.Succeeded;
                if (!set.Succeeded)
                {
                    logger.LogWarning("Could not set {Vm}'s maximum downtime to {Ms} ms: {Error}", request.Vm, ms, set.StandardError.Trim());
                }
            }

            if (info.ExpectedDowntimeMs is { } expected)
            {
                lastDowntime = TimeSpan.FromMilliseconds(expected);
            }

            last = info.ToProgress();
            await reportProgress(last);
        }

        var result = await migration;
        if (result.Succeeded && last is { TotalBytes: { } total })
        {
            await reportProgress(last with { TransferredBytes = Math.Max(last.TransferredBytes ?? 0, total), RemainingBytes = 0 });
        }

        return result;
    }

    private async Task AbortJobAsync(string vm, Task<CommandResult> migration, CancellationTokenSource hardStop)
    {
        var abort = await RunVirshAsync(["domjobabort", vm], CancellationToken.None);
        if (!abort.Succeeded)
        {
            logger.LogWarning("virsh domjobabort {Vm} failed: {Error}", vm, abort.StandardError.Trim());
        }

        if (await Task.WhenAny(migration, Task.Delay(AbortGrace)) != migration)
        {
            await hardStop.CancelAsync();
        }

        try
        {
            await migration;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<VirshJobInfo?> TryJobInfoAsync(string vm)
    {
        try
        {
            var result = await RunVirshAsync(["domjobinfo", vm], CancellationToken.None);
            return result.Succeeded ? VirshOutput.ParseJobInfo(result.StandardOutput) : null;
        }
        catch (ProgramNotFoundException)
        {
            return null;
        }
    }
}
