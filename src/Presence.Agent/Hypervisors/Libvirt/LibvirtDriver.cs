using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Agent.Inventory;
using Presence.Agent.Processes;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Hypervisors.Libvirt;

/// <summary>
/// VMs of this computer's libvirtd, driven through <c>virsh</c>. libvirt's migration is run by the source:
/// its libvirtd connects to the target's libvirtd (<see cref="LibvirtOptions.PeerUriTemplate"/>) and starts
/// the incoming qemu there itself. So <c>prepare_incoming</c> starts nothing: the target only checks that it
/// can take the VM (enough memory, the domain not already running here), reserves the memory in its inventory
/// and answers its own libvirt URI; <c>migrate</c> on the source does the rest and leaves the domain defined
/// only on the target (<c>--persistent --undefinesource</c>). A failed or aborted libvirt migration leaves the
/// domain running on the source, which is what <see cref="IHypervisorDriver"/> promises.
/// </summary>
internal sealed partial class LibvirtDriver : IHypervisorDriver
{
    // After domjobabort, virsh migrate normally exits within a second; past this it is killed.
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(30);

    private readonly AgentOptions options;
    private readonly LibvirtOptions libvirt;
    private readonly ICommandRunner runner;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> incoming = new(StringComparer.Ordinal);
    private readonly HashSet<string> busy = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private IReadOnlyList<VmInventory> domains = [];
    private Task refreshing = Task.CompletedTask;

    // The job's last "Expected downtime": with --undefinesource the domain is gone here before
    // `domjobinfo --completed` could report the real one, so this estimate is what the event carries.
    private TimeSpan? lastDowntime;

    public LibvirtDriver(AgentOptions options, ICommandRunner runner, ILogger logger)
    {
        this.options = options;
        libvirt = options.Libvirt;
        this.runner = runner;
        this.logger = logger;
    }

    public Hypervisor Kind => Hypervisor.Libvirt;

    /// <summary>libvirtd keeps the domains, and a migration moves the definition too (<c>--undefinesource</c>).</summary>
    public bool BootsFromConfiguration => false;

    public event Action? VmsChanged;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        refreshing = Task.Run(RefreshLoopAsync, CancellationToken.None);
    }

    public IReadOnlyList<VmInventory> ListVms()
    {
        lock (gate)
        {
            // A VM on its way here shows as incoming, also when a stopped definition of it is already here.
            return
            [
                .. domains.Where(d => !incoming.ContainsKey(d.Name)),
                .. incoming.Select(i => new VmInventory { Name = i.Key, State = VmState.Incoming, MemoryMb = i.Value }),
            ];
        }
    }

    /// <summary>Reads <c>virsh list --all</c> and each domain's memory and display again.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var list = await VirshAsync(["list", "--all"], "list the domains", cancellationToken);
        var found = new List<VmInventory>();
        foreach (var domain in VirshOutput.ParseList(list))
        {
            var info = await VirshAsync(["dominfo", domain.Name], $"read {domain.Name}'s details", cancellationToken);
            var state = VirshOutput.ToVmState(domain.State);
            found.Add(new VmInventory
            {
                Name = domain.Name,
                State = state,
                MemoryMb = VirshOutput.ParseDominfoMemoryMb(info) ?? 0,
                DisplayUri = state == VmState.Running ? await DisplayAsync(domain.Name, cancellationToken) : null,
            });
        }

        bool changed;
        lock (gate)
        {
            changed = !found.SequenceEqual(domains);
            domains = found;
            // An incoming VM that runs here has arrived: its reservation is the domain itself now.
            foreach (var arrived in found.Where(d => d.State is VmState.Running or VmState.Paused && incoming.ContainsKey(d.Name)).ToList())
            {
                incoming.Remove(arrived.Name);
                changed = true;
            }
        }

        if (changed)
        {
            VmsChanged?.Invoke();
        }
    }

    public async Task<string> PrepareIncomingAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        lock (gate)
        {
            if (domains.FirstOrDefault(d => d.Name == request.Vm) is { } existing && HostInventory.HoldsMemory(existing.State))
            {
                throw new HypervisorException($"{request.Vm} is already {Wire(existing.State)} on {options.Host}");
            }

            if (!incoming.ContainsKey(request.Vm))
            {
                var free = HostInventory.FreeMemoryMb(options.Resources.MemoryMb, ListVms());
                if (request.MemoryMb > free)
                {
                    throw new HypervisorException($"{options.Host} has {free} MB free; {request.Vm} needs {request.MemoryMb} MB");
                }

                incoming[request.Vm] = request.MemoryMb;
            }
        }

        var uri = libvirt.PeerUriTemplate.Replace("{host}", options.Host, StringComparison.Ordinal);
        logger.LogInformation("Ready for {Vm} ({MemoryMb} MB): the source's libvirtd migrates it to {Uri}", request.Vm, request.MemoryMb, uri);
        VmsChanged?.Invoke();
        return uri;
    }

    public Task AbortIncomingAsync(string vm, CancellationToken cancellationToken)
    {
        bool removed;
        lock (gate)
        {
            if (domains.FirstOrDefault(d => d.Name == vm) is { State: VmState.Running } arrived && !incoming.ContainsKey(vm))
            {
                throw new HypervisorException($"{vm} is {Wire(arrived.State)} on {options.Host}, not incoming; nothing aborted");
            }

            removed = incoming.Remove(vm);
        }

        if (removed)
        {
            logger.LogInformation("No longer expecting {Vm}", vm);
            VmsChanged?.Invoke();
        }

        return Task.CompletedTask;
    }

    public async Task<MigrationResult> MigrateAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken)
    {
        if (request.TargetHost == options.Host)
        {
            throw new HypervisorException($"{request.Vm} already runs on {options.Host}; target_host must be another host");
        }

        Claim(request.Vm);
        try
        {
            await RequireStateAsync(request.Vm, "migrated", cancellationToken, "running", "paused");
            var clock = Stopwatch.StartNew();
            using var hardStop = new CancellationTokenSource();
            var migration = runner.RunAsync(libvirt.VirshPath, MigrateArguments(request), hardStop.Token);
            var result = await FollowAsync(request, migration, reportProgress, hardStop, cancellationToken);

            if (!result.Succeeded)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw Failure($"migrate {request.Vm} to {request.TargetHost}", result);
            }

            await RefreshQuietlyAsync();
            logger.LogInformation("{Vm} moved to {Target} in {Seconds:0.0} s", request.Vm, request.TargetHost, clock.Elapsed.TotalSeconds);
            return new MigrationResult(lastDowntime ?? request.DowntimeLimit ?? TimeSpan.Zero, clock.Elapsed);
        }
        catch
        {
            // libvirt leaves the domain running here after a failed or aborted migration; show it as it is.
            await RefreshQuietlyAsync();
            throw;
        }
        finally
        {
            Release(request.Vm);
        }
    }

    public async Task SuspendAsync(string vm, string path, CancellationToken cancellationToken)
    {
        Claim(vm);
        try
        {
            await RequireStateAsync(vm, "suspended", cancellationToken, "running", "paused");
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await VirshAsync(["save", vm, full], $"save {vm} to '{full}'", cancellationToken);

            // The saved image carries the domain's definition; undefined here, it can be resumed on any host
            // that reads the file, and never runs on two.
            var undefine = await RunVirshAsync(["undefine", vm], CancellationToken.None);
            if (!undefine.Succeeded && (await RunVirshAsync(["domstate", vm], CancellationToken.None)).Succeeded)
            {
                // Still defined here: resumed elsewhere it would exist twice, so the suspend has not worked.
                throw Failure($"undefine {vm} after saving it to '{full}'", undefine);
            }

            // A transient domain is gone once saved: there is nothing to undefine.
            logger.LogInformation("{Vm} saved to {Path} and undefined here", vm, full);
        }
        finally
        {
            Release(vm);
            await RefreshQuietlyAsync();
        }
    }

    public async Task ResumeAsync(string vm, string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new HypervisorException($"no saved state of {vm} at '{full}'");
        }

        Claim(vm);
        try
        {
            await RefreshAsync(cancellationToken);
            lock (gate)
            {
                if (domains.FirstOrDefault(d => d.Name == vm) is { } existing && HostInventory.HoldsMemory(existing.State))
                {
                    throw new HypervisorException($"{vm} is already {Wire(existing.State)} on {options.Host}");
                }
            }

            var xml = await VirshAsync(["save-image-dumpxml", full, "--security-info"], $"read the saved state at '{full}'", cancellationToken);
            if (!xml.Contains($"<name>{vm}</name>", StringComparison.Ordinal))
            {
                throw new HypervisorException($"'{full}' does not hold the state of {vm}");
            }

            await VirshAsync(["restore", full], $"restore {vm} from '{full}'", cancellationToken);
            await DefineAsync(vm, xml);
            TryDelete(full);
            logger.LogInformation("{Vm} restored from {Path}", vm, full);
        }
        finally
        {
            Release(vm);
            await RefreshQuietlyAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
        }

        await refreshing;
    }

    private async Task RequireStateAsync(string vm, string operation, CancellationToken cancellationToken, params string[] allowed)
    {
        var state = (await VirshAsync(["domstate", vm], $"read {vm}'s state", cancellationToken)).Trim();
        if (!allowed.Contains(state))
        {
            throw new HypervisorException($"{vm} is {state} on {options.Host}; only a {string.Join(" or ", allowed)} VM can be {operation}");
        }
    }

    private async Task DefineAsync(string vm, string xml)
    {
        // Restored from a save image the domain is transient; defining it from the image's XML keeps it across reboots.
        var file = Path.Combine(Path.GetTempPath(), $"presence-{vm}-{Guid.NewGuid():N}.xml");
        try
        {
            await File.WriteAllTextAsync(file, xml);
            var result = await RunVirshAsync(["define", file], CancellationToken.None);
            if (!result.Succeeded)
            {
                logger.LogWarning("{Vm} runs but could not be defined persistently: {Error}", vm, result.StandardError.Trim());
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<string?> DisplayAsync(string vm, CancellationToken cancellationToken)
    {
        var result = await RunVirshAsync(["domdisplay", vm], cancellationToken);
        var uri = result.Succeeded ? result.StandardOutput.Trim() : "";
        if (uri.Length == 0 || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            return null;
        }

        // libvirt answers with the address qemu listens on; people connect to the host by its name.
        return parsed.IsLoopback || parsed.Host is "0.0.0.0" or "::"
            ? new UriBuilder(parsed) { Host = options.Host }.Uri.ToString().TrimEnd('/')
            : uri;
    }

    private async Task RefreshLoopAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(libvirt.RefreshInterval, stopping.Token);
                await RefreshAsync(stopping.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HypervisorException e)
            {
                logger.LogWarning("Reading libvirt's domains failed: {Reason}", e.Message);
            }
        }
    }

    private async Task RefreshQuietlyAsync()
    {
        try
        {
            await RefreshAsync(CancellationToken.None);
        }
        catch (HypervisorException e)
        {
            logger.LogWarning("Reading libvirt's domains failed: {Reason}", e.Message);
        }
    }

    /// <summary>Runs virsh and answers its stdout; a non-zero exit becomes a <see cref="HypervisorException"/> with virsh's own words.</summary>
    private async Task<string> VirshAsync(IReadOnlyList<string> arguments, string what, CancellationToken cancellationToken)
    {
        var result = await RunVirshAsync(arguments, cancellationToken);
        return result.Succeeded ? result.StandardOutput : throw Failure(what, result);
    }

    private async Task<CommandResult> RunVirshAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await runner.RunAsync(libvirt.VirshPath, ["-c", libvirt.ConnectionUri, .. arguments], cancellationToken);
        }
        catch (ProgramNotFoundException e)
        {
            throw new HypervisorException($"cannot run virsh on {options.Host}: {e.Message}", e);
        }
    }

    private HypervisorException Failure(string what, CommandResult result)
    {
        var said = result.StandardError.Trim() is { Length: > 0 } error ? error : result.StandardOutput.Trim();
        return new HypervisorException($"could not {what} on {options.Host}: {(said.Length > 0 ? said : $"virsh exited with {result.ExitCode}")}");
    }

    private void Claim(string vm)
    {
        lock (gate)
        {
            if (!busy.Add(vm))
            {
                throw new HypervisorException($"{vm} is busy with another operation on {options.Host}");
            }
        }
    }

    private void Release(string vm)
    {
        lock (gate)
        {
            busy.Remove(vm);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Restored from {Path} but could not delete it: {Reason}", path, e.Message);
        }
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Wire(VmState state) => ContractJson.WireName(state);
}
