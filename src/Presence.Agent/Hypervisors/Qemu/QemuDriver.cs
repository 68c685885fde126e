using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Presence.Agent.Configuration;
using Presence.Agent.Inventory;
using Presence.Contracts.Agents;
using Presence.Contracts.Wire;

namespace Presence.Agent.Hypervisors.Qemu;

/// <summary>
/// VMs as qemu child processes steered over QMP. A VM must be listed in <c>Agent:Vms</c> on every host it may run
/// on (<c>absent</c> where it is not yet), because both ends of a migration need the same devices.
/// <list type="bullet">
/// <item>Live migration is pre-copy with auto-converge; when it has not converged after
/// <see cref="QemuOptions.ConvergenceRounds"/> dirty-memory rounds the CPU throttle is raised, or, with
/// <see cref="QemuOptions.Postcopy"/>, it switches to post-copy.</item>
/// <item>After a migration the source qemu (paused, <c>postmigrate</c>) is quit, unless
/// <see cref="QemuOptions.KeepMigratedSource"/>; either way it no longer counts as a VM of this host.</item>
/// <item>Suspend writes the migration stream through <c>exec:cat</c> (qemu 7.2 has no <c>file:</c> URI) and quits qemu;
/// resume starts qemu with <c>-incoming defer</c>, loads the stream and runs <c>cont</c>.</item>
/// <item>qemu processes are children of the agent; they keep running when it stops unless
/// <see cref="QemuOptions.StopVmsOnExit"/>. Waiting incoming instances are always ended.</item>
/// </list>
/// </summary>
internal sealed class QemuDriver : IHypervisorDriver
{
    private const long BytesPerMbit = 125_000;

    private readonly AgentOptions options;
    private readonly QemuOptions qemu;
    private readonly ILogger logger;
    private readonly string binary;
    private readonly string runDirectory;
    private readonly Lock gate = new();
    private readonly Dictionary<string, QemuVm> vms = new(StringComparer.Ordinal);
    private readonly List<QemuVm> retired = [];
    private readonly List<int> startedProcessIds = [];
    private int disposed;

    public QemuDriver(AgentOptions options, ILogger logger)
    {
        this.options = options;
        qemu = options.Qemu;
        this.logger = logger;
        binary = FindBinary(qemu.Binary) ?? qemu.Binary;
        runDirectory = RunDirectoryOf(options);
        Accelerator = string.IsNullOrWhiteSpace(qemu.Accelerator) ? (KvmUsable() ? "kvm" : "tcg") : qemu.Accelerator;
    }

    public Hypervisor Kind => Hypervisor.Qemu;

    public event Action? VmsChanged;

    public string Accelerator { get; }

    /// <summary>Every qemu this driver started, still running or not; tests end them by id.</summary>
    internal IReadOnlyList<int> StartedProcessIds
    {
        get
        {
            lock (gate)
            {
                return [.. startedProcessIds];
            }
        }
    }

    /// <summary>Runs a QMP command on the VM's qemu, or on the paused source it left behind (<see cref="QemuOptions.KeepMigratedSource"/>).</summary>
    internal Task<JsonNode?> ExecuteAsync(string vm, string command, JsonObject? arguments = null)
    {
        QmpClient? qmp;
        lock (gate)
        {
            qmp = vms.TryGetValue(vm, out var here) && here.Qmp is not null
                ? here.Qmp
                : retired.LastOrDefault(r => r.Config.Name == vm)?.Qmp;
        }

        return qmp is null
            ? throw new InvalidOperationException($"no qemu of {vm} on {options.Host}")
            : qmp.ExecuteAsync(command, arguments, CancellationToken.None);
    }

    /// <summary>The QMP socket of a VM as this driver would open it.</summary>
    internal string SocketOf(string vm) => Config(vm) is { } c ? SocketOf(c) : Path.Combine(runDirectory, vm + ".qmp");

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
                    lock (gate)
                    {
                        vms[config.Name] = new QemuVm(config, VmState.Stopped, DisplayUriOf(config));
                    }

                    break;
                case "running":
                    var vm = new QemuVm(config, VmState.Running, DisplayUriOf(config)) { Busy = "started" };
                    lock (gate)
                    {
                        vms[config.Name] = vm;
                    }

                    if (await TryAdoptAsync(vm, cancellationToken))
                    {
                        vm.Busy = null;
                        break;
                    }

                    try
                    {
                        await LaunchAsync(vm, [], cancellationToken);
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
            }
        }

        Changed();
    }

    /// <summary>
    /// A qemu left running by an earlier run of the agent still answers on the VM's socket: take it over rather
    /// than start a second one on the same disks. Only a running or paused one is kept; not being a child of this
    /// process, its end is seen as its QMP socket closing.
    /// </summary>
    private async Task<bool> TryAdoptAsync(QemuVm vm, CancellationToken cancellationToken)
    {
        var socket = SocketOf(vm.Config);
        if (!File.Exists(socket))
        {
            return false;
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
            return false;
        }

        string? status;
        try
        {
            status = (string?)(await qmp.ExecuteAsync("query-status", cancellationToken))?["status"];
        }
        catch (Exception e) when (e is IOException or QmpException)
        {
            await qmp.DisposeAsync();
            return false;
        }

        if (status is "running" or "paused")
        {
            vm.Qmp = qmp;
            vm.State = status == "running" ? VmState.Running : VmState.Paused;
            qmp.EventReceived += e => OnQmpEvent(vm, e);
            qmp.Closed += () => OnGone(vm, null, qmp);
            logger.LogInformation("{Vm} was already running (qemu {Status} at {Socket}); adopted", vm.Config.Name, status, socket);
            return true;
        }

        // Left over from a migration or a save (postmigrate, inmigrate…): it holds nothing to keep.
        logger.LogWarning("{Vm}: a leftover qemu in state {Status} at {Socket} is quit before starting afresh", vm.Config.Name, status, socket);
        await QuitAsync(qmp, null);
        await qmp.DisposeAsync();
        return false;
    }

    public IReadOnlyList<VmInventory> ListVms()
    {
        lock (gate)
        {
            return vms.Values.OrderBy(v => v.Config.Name, StringComparer.Ordinal)
                .Select(v => new VmInventory { Name = v.Config.Name, State = v.State, MemoryMb = v.Config.MemoryMb, DisplayUri = v.DisplayUri })
                .ToList();
        }
    }

    public async Task<string> PrepareIncomingAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        var config = Config(request.Vm)
                     ?? throw new HypervisorException(
                         $"{request.Vm} is not defined on {options.Host}; list it in Agent:Vms (State absent) with the same qemu arguments as on its source");
        if (config.MemoryMb != request.MemoryMb)
        {
            throw new HypervisorException($"{request.Vm} has {config.MemoryMb} MB on {options.Host} but {request.MemoryMb} MB was asked for; both ends must match");
        }

        QemuVm vm;
        lock (gate)
        {
            if (vms.TryGetValue(request.Vm, out var existing))
            {
                // A retried prepare (new command id, same VM) finds the instance already waiting: reuse it.
                return existing is { State: VmState.Incoming, IncomingUri: { } waiting }
                    ? waiting
                    : throw new HypervisorException($"{request.Vm} is already on {options.Host} ({Wire(existing.State)})");
            }

            EnsureFits(request.Vm, config.MemoryMb);
            vm = new QemuVm(config, VmState.Incoming, DisplayUriOf(config)) { Busy = "prepared" };
            vms[request.Vm] = vm;
        }

        Changed();
        try
        {
            var qmp = await LaunchAsync(vm, ["-incoming", "defer"], cancellationToken);
            if (qemu.Postcopy)
            {
                await qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject
                {
                    ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "postcopy-ram", ["state"] = true }),
                }, cancellationToken);
            }

            await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"tcp:{qemu.MigrationAddress}:0" }, cancellationToken);

            // Port 0 lets the kernel choose a free port with no race; query-migrate tells which.
            var info = await qmp.ExecuteAsync("query-migrate", cancellationToken);
            var port = info?["socket-address"]?[0]?["port"]?.ToString()
                       ?? throw new HypervisorException($"qemu did not say which port {request.Vm} listens on");
            vm.IncomingUri = $"tcp:{qemu.MigrationAddress}:{port}";
        }
        catch (Exception e)
        {
            await ForgetAsync(vm);
            throw Explain(e, vm, $"cannot prepare {request.Vm} for an incoming migration");
        }

        vm.Busy = null;
        logger.LogInformation("Waiting for {Vm} ({MemoryMb} MB) at {Uri}", request.Vm, config.MemoryMb, vm.IncomingUri);
        return vm.IncomingUri;
    }

    public async Task AbortIncomingAsync(string vm, CancellationToken cancellationToken)
    {
        QemuVm? incoming;
        lock (gate)
        {
            if (!vms.TryGetValue(vm, out incoming))
            {
                return;
            }

            if (incoming.State != VmState.Incoming)
            {
                throw new HypervisorException($"{vm} is {Wire(incoming.State)} on {options.Host}, not incoming; nothing aborted");
            }
        }

        await ForgetAsync(incoming);
        logger.LogInformation("No longer waiting for {Vm}", vm);
    }

    public async Task<MigrationResult> MigrateAsync(
        MigrationRequest request, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken)
    {
        QemuVm vm;
        lock (gate)
        {
            vm = Claim(request.Vm, "migrated", VmState.Running);
        }

        if (request.TargetHost == options.Host)
        {
            Release(vm, VmState.Running);
            throw new HypervisorException($"{request.Vm} already runs on {options.Host}; target_host must be another host");
        }

        var qmp = vm.Qmp!;
        var bandwidth = (request.MaxBandwidthMbps ?? options.Resources.LinkMbps ?? 10_000) * BytesPerMbit;
        var downtime = request.DowntimeLimit ?? qemu.DowntimeLimit;
        try
        {
            await qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject
            {
                ["capabilities"] = new JsonArray(
                    new JsonObject { ["capability"] = "auto-converge", ["state"] = true },
                    new JsonObject { ["capability"] = "postcopy-ram", ["state"] = qemu.Postcopy }),
            }, CancellationToken.None);
            // Set every time: QEMU keeps parameters between migrations, and the last one may have throttled harder.
            await qmp.ExecuteAsync("migrate-set-parameters", new JsonObject
            {
                ["max-bandwidth"] = Math.Max(bandwidth, BytesPerMbit),
                ["downtime-limit"] = (long)Math.Max(1, downtime.TotalMilliseconds),
                ["cpu-throttle-initial"] = 20,
                ["cpu-throttle-increment"] = 10,
            }, CancellationToken.None);
            await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = request.TargetUri }, CancellationToken.None);
        }
        catch (Exception e)
        {
            await RecoverSourceAsync(vm);
            throw Explain(e, vm, $"cannot migrate {request.Vm} to {request.TargetHost}");
        }

        logger.LogInformation("Migrating {Vm} to {Target} at {Uri} (max {Mbps} Mbit/s, downtime {Downtime} ms)",
            request.Vm, request.TargetHost, request.TargetUri, bandwidth / BytesPerMbit, (long)downtime.TotalMilliseconds);

        var throttled = false;
        var cancelled = false;
        var postcopy = false;
        while (true)
        {
            // In post-copy the target already runs the guest: there is nothing left here to go back to.
            if (cancellationToken.IsCancellationRequested && !cancelled && !postcopy)
            {
                cancelled = true;
                logger.LogInformation("Cancelling the migration of {Vm}", request.Vm);
                await TryExecuteAsync(qmp, "migrate_cancel");
            }

            JsonNode? info;
            try
            {
                info = await qmp.ExecuteAsync("query-migrate", CancellationToken.None);
            }
            catch (Exception e)
            {
                await LostAsync(vm);
                throw Explain(e, vm, $"{request.Vm} was lost while migrating to {request.TargetHost}");
            }

            var status = (string?)info?["status"] ?? "none";
            switch (status)
            {
                case "completed":
                    var result = new MigrationResult(
                        TimeSpan.FromMilliseconds(Number(info, "downtime") ?? 0),
                        TimeSpan.FromMilliseconds(Number(info, "total-time") ?? 0));
                    await RetireAsync(vm);
                    logger.LogInformation("{Vm} moved to {Target} (downtime {Downtime} ms, total {Total} ms)",
                        request.Vm, request.TargetHost, (long)result.Downtime.TotalMilliseconds, (long)result.TotalTime.TotalMilliseconds);
                    return result;

                case "failed" or "cancelled" when postcopy:
                    // Memory is split between the hosts: starting the source again would run a second, stale copy.
                    await LostAsync(vm);
                    throw new HypervisorException(
                        $"post-copy migration of {request.Vm} to {request.TargetHost} failed: {(string?)info?["error-desc"] ?? "qemu gave no reason"}; it is stopped here and must be restarted");

                case "failed" or "cancelled":
                    await RecoverSourceAsync(vm);
                    if (cancelled)
                    {
                        throw new OperationCanceledException($"the migration of {request.Vm} was cancelled; it runs on {options.Host}", cancellationToken);
                    }

                    var error = (string?)info?["error-desc"] ?? (status == "cancelled" ? "cancelled inside qemu" : "qemu gave no reason");
                    throw new HypervisorException($"migration of {request.Vm} to {request.TargetHost} failed: {error}");
            }

            if (info?["ram"] is JsonObject ram)
            {
                await reportProgress(new MigrationProgress
                {
                    TotalBytes = Number(ram, "total"),
                    TransferredBytes = Number(ram, "transferred"),
                    RemainingBytes = Number(ram, "remaining"),
                    DirtyPagesRate = Number(ram, "dirty-pages-rate"),
                    Mbps = ram["mbps"]?.GetValue<double>(),
                });

                if (!throttled && !cancelled && status == "active" && Number(ram, "dirty-sync-count") >= qemu.ConvergenceRounds)
                {
                    throttled = true;
                    if (qemu.Postcopy)
                    {
                        logger.LogInformation("{Vm} has not converged after {Rounds} rounds; switching to post-copy", request.Vm, qemu.ConvergenceRounds);
                        try
                        {
                            await qmp.ExecuteAsync("migrate-start-postcopy", CancellationToken.None);
                            postcopy = true;
                        }
                        catch (QmpException e)
                        {
                            logger.LogWarning("Post-copy refused for {Vm}: {Reason}; going on with pre-copy", request.Vm, e.Description);
                        }

                        continue;
                    }

                    logger.LogInformation("{Vm} has not converged after {Rounds} rounds; throttling its CPU harder ({Initial}% +{Increment}%)",
                        request.Vm, qemu.ConvergenceRounds, qemu.StrongThrottleInitial, qemu.StrongThrottleIncrement);
                    await TryExecuteAsync(qmp, "migrate-set-parameters", new JsonObject
                    {
                        ["cpu-throttle-initial"] = qemu.StrongThrottleInitial,
                        ["cpu-throttle-increment"] = qemu.StrongThrottleIncrement,
                    });
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

    public async Task SuspendAsync(string vm, string path, CancellationToken cancellationToken)
    {
        QemuVm claimed;
        lock (gate)
        {
            claimed = Claim(vm, "suspended", VmState.Running, VmState.Paused);
        }

        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp";
        var qmp = claimed.Qmp!;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await qmp.ExecuteAsync("stop", cancellationToken);
            SetState(claimed, VmState.Paused);
            await qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject
            {
                ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "auto-converge", ["state"] = false }),
            }, cancellationToken);
            await qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = long.MaxValue / 2 }, cancellationToken);
            await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > {ShellQuote(temporary)}" }, cancellationToken);
            await WaitForMigrationAsync(qmp, $"saving {vm} to '{path}'");
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temporary);
            await RecoverSourceAsync(claimed);
            throw Explain(e, claimed, $"cannot save {vm} to '{path}'");
        }

        // The saved state, not this host, now holds the VM: it may be resumed anywhere that can read the file.
        await RetireAsync(claimed, keep: false);
        logger.LogInformation("{Vm} suspended to {Path}", vm, path);
    }

    public async Task ResumeAsync(string vm, string path, CancellationToken cancellationToken)
    {
        var config = Config(vm) ?? throw new HypervisorException($"{vm} is not defined on {options.Host}; list it in Agent:Vms (State absent)");
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new HypervisorException($"no saved state of {vm} at '{path}'");
        }

        QemuVm resumed;
        lock (gate)
        {
            if (vms.TryGetValue(vm, out var existing) && existing.State != VmState.Stopped)
            {
                throw new HypervisorException($"{vm} is already on {options.Host} ({Wire(existing.State)})");
            }

            vms.Remove(vm);
            EnsureFits(vm, config.MemoryMb);
            resumed = new QemuVm(config, VmState.Incoming, DisplayUriOf(config)) { Busy = "resumed" };
            vms[vm] = resumed;
        }

        Changed();
        try
        {
            var qmp = await LaunchAsync(resumed, ["-incoming", "defer"], cancellationToken);
            await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"exec:cat {ShellQuote(full)}" }, cancellationToken);
            await WaitForMigrationAsync(qmp, $"loading {vm} from '{path}'");
            // Saved paused (suspend stops it first), so it stays paused until told to go on.
            await qmp.ExecuteAsync("cont", cancellationToken);
            var status = (string?)(await qmp.ExecuteAsync("query-status", cancellationToken))?["status"];
            if (status != "running")
            {
                throw new HypervisorException($"{vm} is {status} after loading its saved state, not running");
            }
        }
        catch (Exception e)
        {
            await ForgetAsync(resumed);
            throw Explain(e, resumed, $"cannot resume {vm} from '{path}'");
        }

        Release(resumed, VmState.Running);
        // Deleted once running, so the same saved state cannot start the VM on a second host.
        TryDelete(full);
        logger.LogInformation("{Vm} resumed from {Path}", vm, path);
    }

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

    /// <summary>Starts the VM's qemu and connects to its QMP socket.</summary>
    private async Task<QmpClient> LaunchAsync(QemuVm vm, string[] extra, CancellationToken cancellationToken)
    {
        var config = vm.Config;
        var socket = SocketOf(config);
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        TryDelete(socket);

        List<string> arguments =
        [
            "-name", config.Name,
            "-accel", Accelerator,
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
            Changed();
        }
    }

    private async Task WaitForMigrationAsync(QmpClient qmp, string what)
    {
        while (true)
        {
            var info = await qmp.ExecuteAsync("query-migrate", CancellationToken.None);
            switch ((string?)info?["status"])
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    throw new HypervisorException($"{what} failed: {(string?)info?["error-desc"] ?? "qemu gave no reason"}");
            }

            await Task.Delay(qemu.PollInterval);
        }
    }

    /// <summary>After a failed or cancelled outgoing migration or save: the VM must go on running here.</summary>
    private async Task RecoverSourceAsync(QemuVm vm)
    {
        var qmp = vm.Qmp;
        var state = VmState.Running;
        if (qmp is null || !qmp.IsConnected || vm.Process is { HasExited: true })
        {
            await LostAsync(vm);
            return;
        }

        try
        {
            var status = (string?)(await qmp.ExecuteAsync("query-status", CancellationToken.None))?["status"];
            if (status != "running")
            {
                // QEMU resumes a VM that ran before the migration itself; one stopped for a save is ours to start again.
                await qmp.ExecuteAsync("cont", CancellationToken.None);
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
    private async Task RetireAsync(QemuVm vm, bool? keep = null)
    {
        lock (gate)
        {
            vms.Remove(vm.Config.Name);
            if (keep ?? qemu.KeepMigratedSource)
            {
                retired.Add(vm);
            }
        }

        Changed();
        if (!(keep ?? qemu.KeepMigratedSource))
        {
            await QuitAsync(vm.Qmp, vm.Process);
            if (vm.Qmp is { } qmp)
            {
                await qmp.DisposeAsync();
            }
        }
    }

    /// <summary>The VM's qemu died under an operation: the VM is stopped here (it ran nowhere else).</summary>
    private async Task LostAsync(QemuVm vm)
    {
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
        Changed();
    }

    /// <summary>Ends a qemu that holds nothing worth keeping and drops the VM from this host.</summary>
    private async Task ForgetAsync(QemuVm vm)
    {
        lock (gate)
        {
            if (vms.TryGetValue(vm.Config.Name, out var current) && current == vm)
            {
                vms.Remove(vm.Config.Name);
            }
        }

        Changed();
        await QuitAsync(vm.Qmp, vm.Process);
        if (vm.Qmp is { } qmp)
        {
            await qmp.DisposeAsync();
        }
    }

    private static async Task QuitAsync(QmpClient? qmp, QemuProcess? process)
    {
        if (qmp is { IsConnected: true })
        {
            await TryExecuteAsync(qmp, "quit");
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

    private static async Task TryExecuteAsync(QmpClient qmp, string command, JsonObject? arguments = null)
    {
        try
        {
            await qmp.ExecuteAsync(command, arguments, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is QmpException or IOException or TimeoutException)
        {
            // Best effort: the caller goes on to check what state qemu is in.
        }
    }

    private Exception Explain(Exception e, QemuVm vm, string what) => e switch
    {
        HypervisorException or OperationCanceledException => e,
        QmpException q => new HypervisorException($"{what}: {q.Description}", e),
        IOException => new HypervisorException($"{what}: qemu went away{(vm.Process?.ErrorOutput is { Length: > 0 } output ? ": " + output : "")}", e),
        _ => new HypervisorException($"{what}: {e.Message}", e),
    };

    /// <summary>Call under <see cref="gate"/>.</summary>
    private QemuVm Claim(string name, string operation, params VmState[] allowed)
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

    private void Release(QemuVm vm, VmState state)
    {
        lock (gate)
        {
            vm.Busy = null;
            vm.State = state;
        }

        Changed();
    }

    private void SetState(QemuVm vm, VmState state)
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
        var used = vms.Values.Select(v => new VmInventory { Name = v.Config.Name, State = v.State, MemoryMb = v.Config.MemoryMb });
        var free = HostInventory.FreeMemoryMb(options.Resources.MemoryMb, used);
        if (memoryMb > free)
        {
            throw new HypervisorException($"{options.Host} has {free} MB free; {vm} needs {memoryMb} MB");
        }
    }

    private VmOptions? Config(string vm) => options.Vms.FirstOrDefault(v => v.Name == vm);

    private string SocketOf(VmOptions config) =>
        string.IsNullOrWhiteSpace(config.QmpSocket) ? Path.Combine(runDirectory, config.Name + ".qmp") : Path.GetFullPath(config.QmpSocket);

    private string? DisplayUriOf(VmOptions config) =>
        config.DisplayUri ?? (config.DisplayPort is { } port ? $"vnc://{options.Host}:{port}" : null);

    private static long? Number(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;

    /// <summary>For <c>exec:</c> URIs, which qemu hands to /bin/sh.</summary>
    private static string ShellQuote(string path) => "'" + path.Replace("'", "'\\''") + "'";

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

    private void TryDelete(string path)
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

    private void Changed() => VmsChanged?.Invoke();

    private static string Wire(VmState state) => ContractJson.WireName(state);

    private sealed class QemuVm(VmOptions config, VmState state, string? displayUri)
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
}
