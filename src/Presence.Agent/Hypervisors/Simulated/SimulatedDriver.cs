using System.Text.Json;
using Microsoft.Extensions.Logging;
using NodaTime;
using Presence.Agent.Configuration;
using Presence.Agent.Inventory;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Hypervisors.Simulated;

/// <summary>
/// A hypervisor without VMs: their memory is a number, their migration a real TCP stream between agents (see
/// <see cref="SimulatedWire"/>), their saved state a small JSON file. Enough for two agent processes on one
/// machine to move a VM the way two QEMUs would, and for tests and the demo to run without a hypervisor.
/// VMs live in memory: a restarted agent starts again from <see cref="AgentOptions.Vms"/>.
/// </summary>
internal sealed class SimulatedDriver(AgentOptions options, IClock clock, ILogger logger) : IHypervisorDriver
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, SimulatedVm> vms = new(StringComparer.Ordinal);

    public Hypervisor Kind => Hypervisor.Simulated;

    public event Action? VmsChanged;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var vm in options.Vms.Where(v => v.State != "absent"))
            {
                vms[vm.Name] = new SimulatedVm(vm.Name, vm.MemoryMb, vm.State == "stopped" ? VmState.Stopped : VmState.Running, vm.DisplayUri);
            }
        }

        return Task.CompletedTask;
    }

    public IReadOnlyList<VmInventory> ListVms()
    {
        lock (gate)
        {
            return vms.Values.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v.ToInventory()).ToList();
        }
    }

    public async Task<string> PrepareIncomingAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (vms.TryGetValue(request.Vm, out var existing))
            {
                // A retried prepare (new command id, same VM) finds the instance already waiting: reuse it.
                return existing is { State: VmState.Incoming, Listener: { } waiting } && existing.MemoryMb == request.MemoryMb
                    ? waiting.Uri
                    : throw new HypervisorException($"{request.Vm} is already on {options.Host} ({Wire(existing.State)})");
            }

            EnsureFits(request.Vm, request.MemoryMb);
        }

        var listener = new IncomingListener(request.Vm, request.MemoryMb, displayUri => Arrived(request.Vm, displayUri), logger);
        bool added;
        lock (gate)
        {
            added = vms.TryAdd(request.Vm, new SimulatedVm(request.Vm, request.MemoryMb, VmState.Incoming, null) { Listener = listener });
        }

        if (!added)
        {
            await listener.DisposeAsync();
            throw new HypervisorException($"{request.Vm} appeared on {options.Host} while preparing for it");
        }

        logger.LogInformation("Waiting for {Vm} ({MemoryMb} MB) at {Uri}", request.Vm, request.MemoryMb, listener.Uri);
        Changed();
        return listener.Uri;
    }

    public async Task AbortIncomingAsync(string vm, CancellationToken cancellationToken)
    {
        IncomingListener? listener;
        lock (gate)
        {
            if (!vms.TryGetValue(vm, out var existing))
            {
                return;
            }

            if (existing.State != VmState.Incoming)
            {
                throw new HypervisorException($"{vm} is {Wire(existing.State)} on {options.Host}, not incoming; nothing aborted");
            }

            vms.Remove(vm);
            listener = existing.Listener;
        }

        if (listener is not null)
        {
            await listener.DisposeAsync();
        }

        logger.LogInformation("No longer waiting for {Vm}", vm);
        Changed();
    }

    public async Task<MigrationResult> MigrateAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken)
    {
        SimulatedVm vm;
        lock (gate)
        {
            vm = Claim(request.Vm, "migrated", VmState.Running);
        }

        if (request.TargetHost == options.Host)
        {
            Release(vm, VmState.Running);
            throw new HypervisorException($"{request.Vm} already runs on {options.Host}; target_host must be another host");
        }

        var migration = new OutgoingMigration(options.Simulated, request, vm.MemoryMb, vm.DisplayUri);
        try
        {
            var result = await migration.RunAsync(() => SetState(vm, VmState.Paused), reportProgress, cancellationToken);
            lock (gate)
            {
                vms.Remove(vm.Name);
            }

            logger.LogInformation("{Vm} moved to {Target} (downtime {Downtime} ms)", vm.Name, request.TargetHost, (long)result.Downtime.TotalMilliseconds);
            Changed();
            return result;
        }
        catch
        {
            // Whatever went wrong, the VM keeps running where it was.
            Release(vm, VmState.Running);
            throw;
        }
    }

    public async Task SuspendAsync(string vm, string path, CancellationToken cancellationToken)
    {
        SimulatedVm claimed;
        lock (gate)
        {
            claimed = Claim(vm, "suspended", VmState.Running, VmState.Paused);
        }

        var previous = claimed.State;
        try
        {
            var saved = new SavedVm(claimed.Name, claimed.MemoryMb, claimed.DisplayUri, options.Host, clock.GetCurrentInstant());
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var temporary = full + ".tmp";
            await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(saved, ContractJson.Options), cancellationToken);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Release(claimed, previous);
            throw new HypervisorException($"cannot save {vm} to '{path}': {e.Message}", e);
        }
        catch
        {
            Release(claimed, previous);
            throw;
        }

        // The saved state, not this host, now holds the VM: it may be resumed anywhere that can read the file.
        lock (gate)
        {
            vms.Remove(vm);
        }

        logger.LogInformation("{Vm} suspended to {Path}", vm, path);
        Changed();
    }

    public async Task ResumeAsync(string vm, string path, CancellationToken cancellationToken)
    {
        SavedVm saved;
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            saved = JsonSerializer.Deserialize<SavedVm>(bytes, ContractJson.Options)
                    ?? throw new HypervisorException($"'{path}' holds no saved VM");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new HypervisorException($"no saved state of {vm} at '{path}'", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ArgumentException or NotSupportedException)
        {
            throw new HypervisorException($"cannot read the saved state at '{path}': {e.Message}", e);
        }

        if (saved.Vm != vm)
        {
            throw new HypervisorException($"'{path}' holds the state of {saved.Vm}, not {vm}");
        }

        lock (gate)
        {
            if (vms.TryGetValue(vm, out var existing))
            {
                throw new HypervisorException($"{vm} is already on {options.Host} ({Wire(existing.State)})");
            }

            EnsureFits(vm, saved.MemoryMb);
            vms[vm] = new SimulatedVm(vm, saved.MemoryMb, VmState.Running, Rehost(saved.DisplayUri));
        }

        // Deleted once running, so the same saved state cannot start the VM on a second host.
        TryDelete(path);
        logger.LogInformation("{Vm} resumed from {Path} (saved by {Host} at {SavedAt})", vm, path, saved.SavedBy, saved.SavedAt);
        Changed();
    }

    public async ValueTask DisposeAsync()
    {
        List<IncomingListener> listeners;
        lock (gate)
        {
            listeners = vms.Values.Select(v => v.Listener).OfType<IncomingListener>().ToList();
        }

        foreach (var listener in listeners)
        {
            await listener.DisposeAsync();
        }
    }

    private bool Arrived(string vm, string? displayUri)
    {
        lock (gate)
        {
            if (!vms.TryGetValue(vm, out var incoming) || incoming.State != VmState.Incoming)
            {
                return false;
            }

            incoming.State = VmState.Running;
            incoming.Listener = null;
            incoming.DisplayUri = Rehost(displayUri);
        }

        Changed();
        return true;
    }

    /// <summary>Marks the VM busy so no second operation starts on it; call under <see cref="gate"/>.</summary>
    private SimulatedVm Claim(string name, string operation, params VmState[] allowed)
    {
        if (!vms.TryGetValue(name, out var vm))
        {
            throw new HypervisorException($"{name} is not on {options.Host}");
        }

        if (vm.Busy is { } busy)
        {
            throw new HypervisorException($"{name} is being {busy}; it cannot also be {operation}");
        }

        if (!allowed.Contains(vm.State))
        {
            throw new HypervisorException($"{name} is {Wire(vm.State)} on {options.Host}, not {Wire(allowed[0])}");
        }

        vm.Busy = operation;
        return vm;
    }

    private void Release(SimulatedVm vm, VmState state)
    {
        bool changed;
        lock (gate)
        {
            vm.Busy = null;
            changed = vm.State != state;
            vm.State = state;
        }

        if (changed)
        {
            Changed();
        }
    }

    private void SetState(SimulatedVm vm, VmState state)
    {
        lock (gate)
        {
            vm.State = state;
        }

        Changed();
    }

    /// <summary>Call under <see cref="gate"/>.</summary>
    private void EnsureFits(string vm, int memoryMb)
    {
        var free = HostInventory.FreeMemoryMb(options.Resources.MemoryMb, vms.Values.Select(v => v.ToInventory()));
        if (memoryMb > free)
        {
            throw new HypervisorException($"{options.Host} has {free} MB free; {vm} needs {memoryMb} MB");
        }
    }

    /// <summary>A VM's display is served by the host it runs on: spice://basement:5901 becomes spice://imac:5901 on imac.</summary>
    private string? Rehost(string? displayUri)
    {
        if (displayUri is null || !System.Uri.TryCreate(displayUri, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            return displayUri;
        }

        return new UriBuilder(uri) { Host = options.Host }.Uri.ToString().TrimEnd('/');
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Resumed from {Path} but could not delete it: {Reason}", path, e.Message);
        }
    }

    private void Changed() => VmsChanged?.Invoke();

    private static string Wire(VmState state) => ContractJson.WireName(state);

    private sealed class SimulatedVm(string name, int memoryMb, VmState state, string? displayUri)
    {
        public string Name { get; } = name;
        public int MemoryMb { get; } = memoryMb;
        public VmState State { get; set; } = state;
        public string? DisplayUri { get; set; } = displayUri;
        public IncomingListener? Listener { get; set; }

        /// <summary>What is being done to the VM right now, or null.</summary>
        public string? Busy { get; set; }

        public VmInventory ToInventory() => new() { Name = Name, State = State, MemoryMb = MemoryMb, DisplayUri = DisplayUri };
    }

    /// <summary>The suspend file: what another host needs to start the VM again.</summary>
    private sealed record SavedVm(string Vm, int MemoryMb, string? DisplayUri, string SavedBy, Instant SavedAt);
}
