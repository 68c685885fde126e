using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Agent.Inventory;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// The qemu instances of this host and which VM each runs: started, adopted from an earlier run of the agent,
/// claimed by an operation, and ended or retired when their VM leaves. The operations (<see cref="QemuDriver"/>,
/// <see cref="QemuOutgoingMigration"/>, <see cref="QemuSaveRestore"/>) change VMs only through here, under one lock.
/// </summary>
internal sealed partial class QemuInstances(AgentOptions options, string binary, string runDirectory, string accelerator, ILogger logger)
{
    private readonly QemuOptions qemu = options.Qemu;
    private readonly Lock gate = new();
    private readonly Dictionary<string, QemuVm> vms = new(StringComparer.Ordinal);
    private readonly List<QemuVm> retired = [];
    private readonly List<int> startedProcessIds = [];
    private int disposed;
    private int abandoned;

    /// <summary>Raised after any change to <see cref="List"/>.</summary>
    public event Action? Changed;

    public string Host => options.Host;

    /// <summary>The agent died (<see cref="AbandonAsync"/>): nothing here acts on a qemu any more.</summary>
    public bool Abandoned => Volatile.Read(ref abandoned) == 1;

    public IReadOnlyList<int> StartedProcessIds
    {
        get
        {
            lock (gate)
            {
                return [.. startedProcessIds];
            }
        }
    }

    public IReadOnlyList<VmInventory> List()
    {
        lock (gate)
        {
            return vms.Values.OrderBy(v => v.Config.Name, StringComparer.Ordinal)
                .Select(v => new VmInventory { Name = v.Config.Name, State = v.State, MemoryMb = v.Config.MemoryMb, DisplayUri = v.DisplayUri })
                .ToList();
        }
    }

    /// <summary>The VM's qemu, or the paused source it left behind (<see cref="QemuOptions.KeepMigratedSource"/>).</summary>
    public QmpClient? QmpOf(string vm)
    {
        lock (gate)
        {
            return vms.TryGetValue(vm, out var here) && here.Qmp is not null
                ? here.Qmp
                : retired.LastOrDefault(r => r.Config.Name == vm)?.Qmp;
        }
    }

    public QemuVm? Find(string vm)
    {
        lock (gate)
        {
            return vms.GetValueOrDefault(vm);
        }
    }

    public VmOptions? Config(string vm) => options.Vms.FirstOrDefault(v => v.Name == vm);

    public string SocketOf(VmOptions config) =>
        string.IsNullOrWhiteSpace(config.QmpSocket) ? Path.Combine(runDirectory, config.Name + ".qmp") : Path.GetFullPath(config.QmpSocket);

    /// <summary>A VM of the configuration, as it is when the agent starts (it may still be adopted or launched).</summary>
    public QemuVm Add(VmOptions config, VmState state, string? busy)
    {
        var vm = new QemuVm(config, state, DisplayUriOf(config)) { Busy = busy };
        lock (gate)
        {
            vms[config.Name] = vm;
        }

        return vm;
    }

    /// <summary>
    /// Makes room for a VM that is about to arrive (incoming, or resumed from saved state): a new entry, busy with
    /// <paramref name="operation"/>, when it is not here yet and fits. When it is here already the entry found is
    /// returned instead, and <c>Fresh</c> is false; a stopped one is replaced when <paramref name="replacesStopped"/>.
    /// </summary>
    public (QemuVm Vm, bool Fresh) Arrive(VmOptions config, string operation, bool replacesStopped)
    {
        lock (gate)
        {
            if (vms.TryGetValue(config.Name, out var existing) && !(replacesStopped && existing.State == VmState.Stopped))
            {
                return (existing, false);
            }

            vms.Remove(config.Name);
            EnsureFits(config.Name, config.MemoryMb);
            var vm = new QemuVm(config, VmState.Incoming, DisplayUriOf(config)) { Busy = operation };
            vms[config.Name] = vm;
            return (vm, true);
        }
    }

    /// <summary>Marks the VM busy with <paramref name="operation"/> when it is here, idle, and in one of <paramref name="allowed"/>.</summary>
    public QemuVm Claim(string name, string operation, params VmState[] allowed)
    {
        lock (gate)
        {
            if (!vms.TryGetValue(name, out var vm))
            {
                throw new HypervisorException($"{name} is not on {options.Host}");
            }

            if (vm.Busy is { } busy)
            {
                throw new HypervisorException($"{name} is being {busy}; it cannot also be {operation}");
            }

            if (!allowed.Contains(vm.State) || vm.Qmp is null)
            {
                throw new HypervisorException($"{name} is {Wire(vm.State)} on {options.Host}, not {Wire(allowed[0])}");
            }

            vm.Busy = operation;
            return vm;
        }
    }

    public void Release(QemuVm vm, VmState state)
    {
        lock (gate)
        {
            vm.Busy = null;
            vm.State = state;
        }

        RaiseChanged();
    }

    public void SetState(QemuVm vm, VmState state)
    {
        lock (gate)
        {
            vm.State = state;
        }

        RaiseChanged();
    }

    public void RaiseChanged() => Changed?.Invoke();

    /// <summary>Starts the VM's qemu and connects to its QMP socket.</summary>
    public async Task<QmpClient> LaunchAsync(QemuVm vm, string[] extra, CancellationToken cancellationToken)
    {
        var config = vm.Config;
        var socket = SocketOf(config);
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        TryDelete(socket);

        List<string> arguments =
        [
            "-name", config.Name,
            "-accel", accelerator,
            "-m", config.MemoryMb.ToString(CultureInfo.InvariantCulture),
            "-display", "none",
            "-qmp", $"unix:{socket},server=on,wait=off",
            "-pidfile", Path.ChangeExtension(socket, ".pid"),
        ];
        if (config.DisplayPort is { } port)
        {
            arguments.AddRange(["-vnc", $"{qemu.MigrationAddress}:{port - 5900}"]);
        }

        arguments.AddRange(config.QemuArguments);
        arguments.AddRange(extra);

        var process = QemuProcess.Start(binary, arguments);
        vm.Process = process;
        lock (gate)
        {
            startedProcessIds.Add(process.Id);
        }

        process.Exited += () => OnGone(vm, process, null);

        var deadline = DateTime.UtcNow + qemu.StartTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new HypervisorException($"qemu for {config.Name} exited at start: {process.ErrorOutput}");
            }

            try
            {
                var qmp = await QmpClient.ConnectAsync(socket, cancellationToken);
                qmp.EventReceived += e => OnQmpEvent(vm, e);
                vm.Qmp = qmp;
                return qmp;
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    await process.KillAsync();
                    throw new HypervisorException($"qemu for {config.Name} did not open its QMP socket {socket} within {qemu.StartTimeout}");
                }

                await Task.Delay(25, cancellationToken);
            }
        }
    }

    /// <summary>After a failed or cancelled outgoing migration or save: the VM must go on running here.</summary>
    public async Task RecoverSourceAsync(QemuVm vm)
    {
        if (Abandoned)
        {
            return;
        }

        var qmp = vm.Qmp;
        var state = VmState.Running;
        if (qmp is null || !qmp.IsConnected || vm.Process is { HasExited: true })
        {
            await LostAsync(vm);
            return;
        }

        try
        {
            if (await qmp.QueryStatusAsync(CancellationToken.None) != "running")
            {
                // QEMU resumes a VM that ran before the migration itself; one stopped for a save is ours to start again.
                await qmp.ContAsync(CancellationToken.None);
            }
        }
        catch (Exception e) when (e is QmpException or IOException)
        {
            logger.LogWarning("{Vm} may not be running after the failed migration: {Reason}", vm.Config.Name, e.Message);
            state = VmState.Paused;
        }

        Release(vm, state);
    }

    /// <summary>The VM left this host (moved or saved): quit its qemu, or keep it paused for inspection.</summary>
    public async Task RetireAsync(QemuVm vm, bool? keep = null)
    {
        if (Abandoned)
        {
            return;
        }

        var kept = keep ?? qemu.KeepMigratedSource;
        lock (gate)
        {
            vms.Remove(vm.Config.Name);
            if (kept)
            {
                retired.Add(vm);
            }
        }

        RaiseChanged();
        if (!kept)
        {
            await QuitAsync(vm.Qmp, vm.Process);
            if (vm.Qmp is { } qmp)
            {
                await qmp.DisposeAsync();
            }
        }
    }

    /// <summary>The VM's qemu died under an operation: the VM is stopped here (it ran nowhere else).</summary>
    public async Task LostAsync(QemuVm vm)
    {
        if (Abandoned)
        {
            return;
        }

        if (vm.Process is { } process)
        {
            await process.KillAsync();
        }

        if (vm.Qmp is { } qmp)
        {
            await qmp.DisposeAsync();
        }

        lock (gate)
        {
            vm.Busy = null;
            vm.State = VmState.Stopped;
            vm.Qmp = null;
        }

        logger.LogWarning("{Vm}'s qemu is gone: {Output}", vm.Config.Name, vm.Process?.ErrorOutput);
        RaiseChanged();
    }

    /// <summary>Ends a qemu that holds nothing worth keeping and drops the VM from this host.</summary>
    public async Task ForgetAsync(QemuVm vm)
    {
        if (Abandoned)
        {
            return;
        }

        lock (gate)
        {
            if (vms.TryGetValue(vm.Config.Name, out var current) && current == vm)
            {
                vms.Remove(vm.Config.Name);
            }
        }

        RaiseChanged();
        await QuitAsync(vm.Qmp, vm.Process);
        if (vm.Qmp is { } qmp)
        {
            await qmp.DisposeAsync();
        }
    }

    /// <summary>Ends waiting incoming instances, retired sources and, with <see cref="QemuOptions.StopVmsOnExit"/>, every VM.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        List<QemuVm> all;
        lock (gate)
        {
            all = [.. vms.Values, .. retired];
        }

        foreach (var vm in all)
        {
            if ((vm.Process is not null || vm.Qmp is not null) && (vm.State == VmState.Incoming || qemu.StopVmsOnExit || retired.Contains(vm)))
            {
                await QuitAsync(vm.Qmp, vm.Process);
            }

            if (vm.Qmp is { } qmp)
            {
                await qmp.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// As a killed agent would: every QMP connection dropped, every qemu left exactly as it is (running, waiting
    /// for an incoming VM, or in the middle of sending one), for the next run of the agent to adopt.
    /// </summary>
    public async ValueTask AbandonAsync()
    {
        Volatile.Write(ref abandoned, 1);
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        List<QemuVm> all;
        lock (gate)
        {
            all = [.. vms.Values, .. retired];
        }

        foreach (var qmp in all.Select(v => v.Qmp).OfType<QmpClient>())
        {
            await qmp.DisposeAsync();
        }
    }

    /// <summary>Turns what went wrong under an operation into the error the server is told.</summary>
    public static Exception Explain(Exception e, QemuVm vm, string what) => e switch
    {
        HypervisorException or OperationCanceledException => e,
        QmpException q => new HypervisorException($"{what}: {q.Description}", e),
        IOException => new HypervisorException($"{what}: qemu went away{(vm.Process?.ErrorOutput is { Length: > 0 } output ? ": " + output : "")}", e),
        _ => new HypervisorException($"{what}: {e.Message}", e),
    };

    public void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not delete {Path}: {Reason}", path, e.Message);
        }
    }

    public static string Wire(VmState state) => ContractJson.WireName(state);

    private void OnQmpEvent(QemuVm vm, QmpEvent e)
    {
        // The destination of a live migration starts by itself once the last pages are in.
        if (e.Name == "RESUME" && vm.State == VmState.Incoming && vm.Busy is null)
        {
            logger.LogInformation("{Vm} arrived and runs here", vm.Config.Name);
            SetState(vm, VmState.Running);
        }
    }

    /// <summary>A qemu ended by itself: its process exited, or (adopted, not our child) its QMP socket closed.</summary>
    private void OnGone(QemuVm vm, QemuProcess? process, QmpClient? adopted)
    {
        bool changed;
        lock (gate)
        {
            // While disposing, connections close because this driver closes them.
            changed = Volatile.Read(ref disposed) == 0
                      && vms.TryGetValue(vm.Config.Name, out var current) && current == vm && vm.Busy is null
                      && (process is not null ? vm.Process == process : vm.Process is null && vm.Qmp == adopted);
            if (changed)
            {
                if (vm.State == VmState.Incoming)
                {
                    vms.Remove(vm.Config.Name);
                }
                else
                {
                    vm.State = VmState.Stopped;
                }
            }
        }

        if (changed)
        {
            logger.LogWarning("qemu of {Vm} ended: {Output}", vm.Config.Name, process?.ErrorOutput ?? "its QMP socket closed");
            RaiseChanged();
        }
    }

    private static async Task QuitAsync(QmpClient? qmp, QemuProcess? process)
    {
        if (qmp is { IsConnected: true })
        {
            await qmp.BestEffortAsync(QmpCommands.QuitAsync);
        }

        if (process is not null && !await process.WaitForExitAsync(TimeSpan.FromSeconds(3)))
        {
            await process.KillAsync();
        }

        // Not our child (adopted): its closing the socket is the sign that it is gone and its disks are free.
        for (var i = 0; process is null && qmp is { IsConnected: true } && i < 100; i++)
        {
            await Task.Delay(30);
        }
    }

    /// <summary>Call under <see cref="gate"/>.</summary>
    private void EnsureFits(string vm, int memoryMb)
    {
        var used = vms.Values.Select(v => new VmInventory { Name = v.Config.Name, State = v.State, MemoryMb = v.Config.MemoryMb });
        var free = HostInventory.FreeMemoryMb(options.Resources.MemoryMb, used);
        if (memoryMb > free)
        {
            throw new HypervisorException($"{options.Host} has {free} MB free; {vm} needs {memoryMb} MB");
        }
    }

    private string? DisplayUriOf(VmOptions config) =>
        config.DisplayUri ?? (config.DisplayPort is { } port ? $"vnc://{options.Host}:{port}" : null);
}
