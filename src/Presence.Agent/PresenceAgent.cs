using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using Presence.Agent.Broker;
using Presence.Agent.Commands;
using Presence.Agent.Configuration;
using Presence.Agent.Displays;
using Presence.Agent.Hypervisors;
using Presence.Agent.Inventory;
using Presence.Agent.Processes;
using Presence.Agent.Sensors;
using Presence.Contracts.Agents;
using Presence.Contracts.Mqtt;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;

namespace Presence.Agent;

/// <summary>
/// The agent of one computer: announces itself on MQTT (status, inventory), executes the server's commands on
/// its hypervisor and reports how they went (CONTRACT.md §3). Runs as the program (<c>Program.cs</c>) or in
/// process, several side by side, for tests and the demo:
/// <code>
/// await using var imac = new PresenceAgent(new AgentOptions
/// {
///     Host = "imac",
///     Mqtt = { Host = "127.0.0.1", Port = broker.Port, TopicRoot = "test-house" },
///     Resources = { Cpus = 8, MemoryMb = 16384 },
///     Vms = { new VmOptions { Name = "alice-desktop", MemoryMb = 8192 } },
///     StateDirectory = Path.Combine(scratch, "imac"),
///     Simulated = { SpeedFactor = 50, ProgressInterval = TimeSpan.FromMilliseconds(50) },
/// }, loggerFactory);
/// await imac.StartAsync();
/// </code>
/// The options are checked when the agent is constructed (<see cref="AgentOptionsException"/>). An instance
/// starts once; to restart, make a new one with the same state directory — commands it already executed are
/// answered from there, not executed again. <see cref="StartAsync"/> returns after the first connection
/// attempt; if the broker is not there yet the agent keeps trying every <see cref="MqttOptions.ReconnectDelay"/>.
/// </summary>
public sealed class PresenceAgent : IHostedService, IAsyncDisposable
{
    private readonly AgentOptions options;
    private readonly IClock clock;
    private readonly ILogger logger;
    private readonly IHypervisorDriver driver;
    private readonly DisplaySeat seat;
    private readonly Power.SleepInhibitor inhibitor;
    private readonly CommandJournal journal;
    private readonly Whereabouts.VmWhereabouts? whereabouts;
    private readonly AgentOptions startingPoint;
    private readonly CommandTrust trust;
    private readonly CommandProcessor processor;
    private readonly MqttConnection connection;
    private readonly SensorHub? sensors;
    private readonly SemaphoreSlim inventoryGate = new(1, 1);
    private readonly byte[] offlineStatus;
    private readonly byte[] onlineStatus;
    private PowerState power;
    private int phase;

    public PresenceAgent(AgentOptions options, ILoggerFactory? loggerFactory = null, IClock? clock = null)
    {
        AgentOptionsValidator.ThrowIfInvalid(options);
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        this.options = options;
        this.clock = clock ?? SystemClock.Instance;
        logger = loggers.CreateLogger($"Presence.Agent.{options.Host}");
        Topics = new Topics(options.Mqtt.TopicRoot);
        StateDirectory = options.EffectiveStateDirectory;
        power = new PowerState(options.Resources.OnBattery, options.Resources.BatteryPercent);

        // Where VMs went since the configuration was written decides what the hypervisor starts with: a VM that
        // migrated away must not boot here again, one that arrived must (issue 10: one host per VM).
        var places = new Whereabouts.VmWhereabouts(StateDirectory, this.clock, logger);
        places.Load();
        startingPoint = places.Apply(options);
        driver = HypervisorDrivers.Create(startingPoint, this.clock, logger);
        whereabouts = driver.BootsFromConfiguration ? places : null;
        seat = new DisplaySeat(logger, Processes.ProcessRunner.Instance, options.Display.Viewer);
        inhibitor = new Power.SleepInhibitor(logger);
        journal = new CommandJournal(StateDirectory, options.RememberedCommands, logger);
        trust = new CommandTrust(options.Host, options.Trust, options.Mqtt.Host, this.clock, logger);
        processor = new CommandProcessor(
            options.Host, Path.Combine(StateDirectory, "suspended"), driver, seat, inhibitor, journal, whereabouts, trust, PublishEventAsync, logger);

        // No time stamp in retained payloads: a server reading them hours later would reject an old `at` as clock skew.
        offlineStatus = ContractJson.Serialize(Status(AgentState.Offline));
        onlineStatus = ContractJson.Serialize(Status(AgentState.Online));
        connection = new MqttConnection(
            $"agent {options.Host}",
            BrokerSession.Options(options, Topics.AgentStatus(options.Host), offlineStatus, logger),
            MqttReconnect.Every(options.Mqtt.ReconnectDelay),
            logger);
        connection.Subscribe([Topics.AgentCommands(options.Host)]);
        connection.OnMessage(ReceiveAsync);
        connection.OnConnected(AnnounceAsync);

        var enabled = SensorHub.Enabled(options.Sensors, ProcessRunner.Instance, this.clock, logger);
        if (enabled.Count > 0)
        {
            sensors = new SensorHub(
                options.Host, Topics, enabled, (topic, payload) => connection.TryPublishAsync(topic, payload, retain: false), OnSignalAsync, this.clock, logger);
        }
    }

    /// <summary>The version in the status payload.</summary>
    public static string Version { get; } =
        typeof(PresenceAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public string Host => options.Host;

    public Topics Topics { get; }

    /// <summary>Where the command journal (and, by default, suspended VMs) are kept.</summary>
    public string StateDirectory { get; }

    public bool IsConnected => connection.IsConnected;

    /// <summary>What the retained inventory says now.</summary>
    public AgentInventory Inventory => HostInventory.Compose(options, driver.ListVms(), Volatile.Read(ref power));

    /// <summary>
    /// The computer's power supply changed (a laptop unplugged or plugged in, its charge dropped): the inventory
    /// says so from now on, and is published again at once, since the server's battery rules read it. Before
    /// <see cref="StartAsync"/> it only changes what the first inventory will say.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batteryPercent"/> is not 0–100.</exception>
    public Task SetPowerAsync(bool onBattery, int? batteryPercent)
    {
        if (batteryPercent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(batteryPercent), batteryPercent, "a battery's charge is 0–100 %");
        }

        Volatile.Write(ref power, new PowerState(onBattery, batteryPercent));
        return Volatile.Read(ref phase) == 1 ? PublishInventoryAsync() : Task.CompletedTask;
    }

    /// <summary>VM displays shown on this computer's screen, by VM: what attach_display/detach_display changed.</summary>
    public IReadOnlyDictionary<string, string> AttachedDisplays => seat.Attached;

    /// <summary>The VMs this computer is staying awake for (`inhibit_sleep`).</summary>
    public IReadOnlyCollection<string> SleepInhibitedFor => inhibitor.HeldFor;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref phase, 1, 0) != 0)
        {
            throw new InvalidOperationException("a PresenceAgent starts once; create a new one to start again");
        }

        journal.Load(record => new AgentEvent
        {
            CommandId = record.CommandId,
            Vm = record.Vm,
            State = AgentEventState.Failed,
            Error = $"the agent on {Host} restarted before the command finished",
            Id = Guid.NewGuid().ToString("N"),
        });
        await driver.StartAsync(cancellationToken);
        SettleWhereabouts();
        driver.VmsChanged += OnVmsChanged;
        logger.LogInformation("Agent {Host} starting: {Hypervisor} hypervisor, {Vms} VM(s), broker {Broker}:{Port}, topics under {Root}/, state in {State}",
            Host, options.Hypervisor, driver.ListVms().Count, options.Mqtt.Host, options.Mqtt.Port, Topics.Root, StateDirectory);
        logger.Log(options.Trust.ServerKey is { Length: > 0 } || MigrationUri.IsLoopback(options.Mqtt.Host) ? LogLevel.Information : LogLevel.Warning,
            "Agent {Host} carries out commands signed by the server key from {Source}", Host, trust.KeySource);
        await connection.StartAsync(cancellationToken);
        sensors?.Start();
    }

    /// <summary>
    /// Ends running commands (a migration stops and its VM stays here), publishes the retained offline status
    /// and disconnects cleanly.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref phase, 2, 1) != 1)
        {
            return;
        }

        if (sensors is not null)
        {
            await sensors.DisposeAsync();
        }

        await processor.StopAsync().WaitAsync(cancellationToken);
        driver.VmsChanged -= OnVmsChanged;
        await connection.CloseAsync((Topics.AgentStatus(Host), offlineStatus));
        await driver.DisposeAsync();
        logger.LogInformation("Agent {Host} stopped", Host);
    }

    /// <summary>
    /// Dies the way a crashed agent or a pulled network cable would: no events, no offline status, no DISCONNECT.
    /// The broker then publishes the last will (offline). For tests and demos of failure.
    /// </summary>
    public async Task SimulateCrashAsync()
    {
        if (Interlocked.CompareExchange(ref phase, 2, 1) != 1)
        {
            return;
        }

        driver.VmsChanged -= OnVmsChanged;
        if (sensors is not null)
        {
            await sensors.DisposeAsync();
        }

        // The hypervisor lets go before commands are cancelled: a killed agent's migration goes on inside qemu.
        await processor.AbandonAsync(driver.AbandonAsync);
        await connection.AbortAsync();
        logger.LogWarning("Agent {Host} crashed on purpose", Host);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await connection.DisposeAsync();
    }

    private AgentStatus Status(AgentState state) => new()
    {
        State = state,
        AgentVersion = Version,
        Hypervisor = driver.Kind,
    };

    /// <summary>Throws when the broker did not take the status or the inventory: the connection announces again.</summary>
    private async Task AnnounceAsync()
    {
        if (!await connection.TryPublishAsync(Topics.AgentStatus(Host), onlineStatus, retain: true))
        {
            throw new InvalidOperationException($"the broker did not take {Topics.AgentStatus(Host)}");
        }

        if (!await PublishInventoryAsync())
        {
            throw new InvalidOperationException($"the broker did not take {Topics.AgentInventory(Host)}");
        }

        await processor.PublishPendingAsync();
    }

    /// <summary>
    /// What the hypervisor found at start that its starting point did not say: a VM meant to run here that it did
    /// not list was sent away by its qemu while the agent was dead (the VM runs on the target), and one listed
    /// running that was expected absent arrived meanwhile. Recorded now, since the evidence (a qemu in
    /// postmigrate) is quit and gone before the next start.
    /// </summary>
    private void SettleWhereabouts()
    {
        if (whereabouts is null)
        {
            return;
        }

        var listed = driver.ListVms();
        foreach (var vm in startingPoint.Vms.Where(v => v.State == "running" && listed.All(l => l.Name != v.Name)))
        {
            whereabouts.Left(vm.Name, "sent away while the agent was away", null, vm.MemoryMb);
        }

        whereabouts.Observe(driver.ListVms, startingPoint);
    }

    private void OnVmsChanged()
    {
        whereabouts?.Observe(driver.ListVms, startingPoint);

        // A VM that has arrived no longer needs this computer kept awake.
        foreach (var vm in driver.ListVms().Where(v => v.State == VmState.Running && inhibitor.HeldFor.Contains(v.Name)))
        {
            inhibitor.Release(vm.Name);
        }

        _ = PublishInventoryAsync();
    }

    /// <summary>The power sensor's findings go into the inventory too: the server's battery rules read them there.</summary>
    private Task OnSignalAsync(Signal signal) =>
        signal is PowerSignal power ? SetPowerAsync(!power.Ac, power.BatteryPercent) : Task.CompletedTask;

    private async Task<bool> PublishInventoryAsync()
    {
        await inventoryGate.WaitAsync();
        try
        {
            // Taken inside the gate, so the last inventory published is never older than the last change. One the
            // broker did not take goes out again with the next announcement, at the connection's next check.
            if (await connection.TryPublishAsync(Topics.AgentInventory(Host), ContractJson.Serialize(Inventory), retain: true))
            {
                return true;
            }
        }
        catch (Exception e)
        {
            logger.LogWarning("Publishing the inventory failed: {Reason}", e.Message);
        }
        finally
        {
            inventoryGate.Release();
        }

        connection.AnnounceAgain();
        return false;
    }

    private Task<bool> PublishEventAsync(AgentEvent e) =>
        connection.TryPublishAsync(Topics.AgentEvents(Host), ContractJson.Serialize(e with { At = clock.GetCurrentInstant() }), retain: false);

    /// <summary>
    /// A command is acknowledged once it is recorded (a crash before that gets it redelivered); one whose handling
    /// threw is acknowledged too, since delivering it again would only throw again.
    /// </summary>
    private async Task<bool> ReceiveAsync(string topic, byte[] payload, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        if (topic != Topics.AgentCommands(Host))
        {
            return true;
        }

        try
        {
            return await processor.HandleAsync(topic, payload, properties);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Command handling failed");
            return true;
        }
    }
}
