using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// VMs as qemu child processes steered over QMP. A VM must be listed in <c>Agent:Vms</c> on every host it may run
/// on (<c>absent</c> where it is not yet), because both ends of a migration need the same devices.
/// This class turns the agent's commands into steps; the parts live beside it:
/// <list type="bullet">
/// <item><see cref="QemuInstances"/>: which qemu runs which VM (start, adopt, retire, end);</item>
/// <item><see cref="QemuOutgoingMigration"/>: sending a VM away, and the policy that makes it converge;</item>
/// <item><see cref="QemuSaveRestore"/>: suspend to a file and resume from it;</item>
/// <item><see cref="QmpCommands"/>: the QMP commands, typed.</item>
/// </list>
/// qemu processes are children of the agent; they keep running when it stops unless
/// <see cref="QemuOptions.StopVmsOnExit"/>. Waiting incoming instances are always ended.
/// </summary>
internal sealed class QemuDriver : IHypervisorDriver
{
    private readonly AgentOptions options;
    private readonly QemuOptions qemu;
    private readonly ILogger logger;
    private readonly string binary;
    private readonly string runDirectory;
    private readonly QemuInstances instances;
    private readonly QemuOutgoingMigration outgoing;
    private readonly QemuSaveRestore saves;

    public QemuDriver(AgentOptions options, ILogger logger)
    {
        this.options = options;
        qemu = options.Qemu;
        this.logger = logger;
        binary = FindBinary(qemu.Binary) ?? qemu.Binary;
        runDirectory = RunDirectoryOf(options);
        Accelerator = string.IsNullOrWhiteSpace(qemu.Accelerator) ? (KvmUsable() ? "kvm" : "tcg") : qemu.Accelerator;
        instances = new QemuInstances(options, binary, runDirectory, Accelerator, logger);
        instances.Changed += () => VmsChanged?.Invoke();
        outgoing = new QemuOutgoingMigration(instances, options, logger);
        saves = new QemuSaveRestore(instances, qemu.PollInterval, logger);
    }

    public Hypervisor Kind => Hypervisor.Qemu;

    public event Action? VmsChanged;

    public string Accelerator { get; }

    /// <summary>Every qemu this driver started, still running or not; tests end them by id.</summary>
    internal IReadOnlyList<int> StartedProcessIds => instances.StartedProcessIds;

    /// <summary>Runs a QMP command on the VM's qemu, or on the paused source it left behind (<see cref="QemuOptions.KeepMigratedSource"/>).</summary>
    internal Task<JsonNode?> ExecuteAsync(string vm, string command, JsonObject? arguments = null) =>
        instances.QmpOf(vm) is { } qmp
            ? qmp.ExecuteAsync(command, arguments, CancellationToken.None)
            : throw new InvalidOperationException($"no qemu of {vm} on {options.Host}");

    /// <summary>The QMP socket of a VM as this driver would open it.</summary>
    internal string SocketOf(string vm) =>
        instances.Config(vm) is { } c ? instances.SocketOf(c) : Path.Combine(runDirectory, vm + ".qmp");

    public static string RunDirectoryOf(AgentOptions options) => string.IsNullOrWhiteSpace(options.Qemu.RunDirectory)
        ? Path.Combine(options.EffectiveStateDirectory, "qemu")
        : Path.GetFullPath(options.Qemu.RunDirectory);

    /// <summary>The binary's full path: as given when it has a directory part, else found on PATH.</summary>
    public static string? FindBinary(string name)
    {
        if (name.Contains('/'))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(runDirectory);
        logger.LogInformation("qemu driver: {Binary}, accelerator {Accelerator}, run directory {RunDirectory}", binary, Accelerator, runDirectory);
        foreach (var config in options.Vms)
        {
            switch (config.State)
            {
                case "stopped":
                    instances.Add(config, VmState.Stopped, busy: null);
                    break;
                case "running":
                    var vm = instances.Add(config, VmState.Running, busy: "started");
                    var found = await instances.TryAdoptAsync(vm, cancellationToken);
                    if (found == Adoption.Adopted)
                    {
                        vm.Busy = null;
                        break;
                    }

                    if (found == Adoption.MovedAway)
                    {
                        await instances.ForgetAsync(vm);
                        break;
                    }

                    try
                    {
                        await instances.LaunchAsync(vm, [], cancellationToken);
                        logger.LogInformation("{Vm} started (qemu pid {Pid})", config.Name, vm.Process?.Id);
                    }
                    catch (HypervisorException e)
                    {
                        // One VM that will not start must not keep the others (and the agent) down.
                        logger.LogError("{Vm} did not start: {Reason}", config.Name, e.Message);
                        vm.State = VmState.Stopped;
                    }

                    vm.Busy = null;
                    break;
                case "absent":
                    // The agent may have been killed after its qemu received the VM: that qemu runs it here now.
                    var arrived = instances.Add(config, VmState.Running, busy: "started");
                    if (await instances.TryAdoptAsync(arrived, cancellationToken) == Adoption.Adopted)
                    {
                        arrived.Busy = null;
                    }
                    else
                    {
                        await instances.ForgetAsync(arrived);
                    }

                    break;
            }
        }

        instances.RaiseChanged();
    }

    public IReadOnlyList<VmInventory> ListVms() => instances.List();

    public async Task<string> PrepareIncomingAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        var config = instances.Config(request.Vm)
                     ?? throw new HypervisorException(
                         $"{request.Vm} is not defined on {options.Host}; list it in Agent:Vms (State absent) with the same qemu arguments as on its source");
        if (config.MemoryMb != request.MemoryMb)
        {
            throw new HypervisorException($"{request.Vm} has {config.MemoryMb} MB on {options.Host} but {request.MemoryMb} MB was asked for; both ends must match");
        }

        var (vm, fresh) = instances.Arrive(config, "prepared", replacesStopped: false);
        if (!fresh)
        {
            // A retried prepare (new command id, same VM) finds the instance already waiting: reuse it.
            return vm is { State: VmState.Incoming, IncomingUri: { } waiting }
                ? waiting
                : throw new HypervisorException($"{request.Vm} is already on {options.Host} ({QemuInstances.Wire(vm.State)})");
        }

        instances.RaiseChanged();
        try
        {
            var qmp = await instances.LaunchAsync(vm, ["-incoming", "defer"], cancellationToken);
            if (qemu.Postcopy)
            {
                await qmp.SetMigrationCapabilitiesAsync(new MigrationCapabilities(PostcopyRam: true), cancellationToken);
            }

            // Port 0 lets the kernel choose a free port with no race; query-migrate tells which.
            await qmp.MigrateIncomingAsync($"tcp:{qemu.MigrationAddress}:0", cancellationToken);
            var port = (await qmp.QueryMigrateAsync(cancellationToken)).ListeningPort
                       ?? throw new HypervisorException($"qemu did not say which port {request.Vm} listens on");
            vm.IncomingUri = $"tcp:{qemu.MigrationAddress}:{port}";
        }
        catch (Exception e)
        {
            await instances.ForgetAsync(vm);
            throw QemuInstances.Explain(e, vm, $"cannot prepare {request.Vm} for an incoming migration");
        }

        vm.Busy = null;
        logger.LogInformation("Waiting for {Vm} ({MemoryMb} MB) at {Uri}", request.Vm, config.MemoryMb, vm.IncomingUri);
        return vm.IncomingUri;
    }

    public async Task AbortIncomingAsync(string vm, CancellationToken cancellationToken)
    {
        if (instances.Find(vm) is not { } incoming)
        {
            return;
        }

        if (incoming.State != VmState.Incoming)
        {
            throw new HypervisorException($"{vm} is {QemuInstances.Wire(incoming.State)} on {options.Host}, not incoming; nothing aborted");
        }

        await instances.ForgetAsync(incoming);
        logger.LogInformation("No longer waiting for {Vm}", vm);
    }

    public Task<MigrationResult> MigrateAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken) =>
        outgoing.RunAsync(request, reportProgress, cancellationToken);

    public Task SuspendAsync(string vm, string path, CancellationToken cancellationToken) => saves.SuspendAsync(vm, path, cancellationToken);

    public Task ResumeAsync(string vm, string path, CancellationToken cancellationToken) => saves.ResumeAsync(vm, path, cancellationToken);

    public ValueTask DisposeAsync() => instances.DisposeAsync();

    public ValueTask AbandonAsync() => instances.AbandonAsync();

    private static bool KvmUsable()
    {
        try
        {
            using var kvm = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
