namespace Presence.Agent.Configuration;

/// <summary>
/// Everything one agent needs, bound from the <c>Agent</c> section (agent.json, environment, command line —
/// see <see cref="AgentConfiguration"/>) or built in code for in-process agents. Checked by
/// <see cref="AgentOptionsValidator"/> before anything starts.
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>This computer's name in topics and inventory; matches <c>[a-z0-9][a-z0-9_-]{0,62}</c>.</summary>
    public string Host { get; set; } = "";

    /// <summary><c>simulated</c> or <c>libvirt</c>; <c>qemu</c> is reserved for its driver.</summary>
    public string Hypervisor { get; set; } = "simulated";

    public MqttOptions Mqtt { get; set; } = new();

    public ResourceOptions Resources { get; set; } = new();

    /// <summary>The VMs this computer has when the agent starts (the simulated driver's starting point; libvirt lists its own).</summary>
    public List<VmOptions> Vms { get; set; } = [];

    /// <summary>
    /// Where executed command outcomes (and, by default, suspended VM state) are kept so a restart does not
    /// execute a command twice. Empty means a per-host folder under the user's local application data.
    /// </summary>
    public string StateDirectory { get; set; } = "";

    /// <summary>How many finished commands are remembered for de-duplication; older ones are forgotten first.</summary>
    public int RememberedCommands { get; set; } = 1000;

    public SimulatedOptions Simulated { get; set; } = new();

    public LibvirtOptions Libvirt { get; set; } = new();

    public SensorOptions Sensors { get; set; } = new();

    public string EffectiveClientId => string.IsNullOrWhiteSpace(Mqtt.ClientId) ? $"presence-agent-{Host}" : Mqtt.ClientId;

    public string EffectiveStateDirectory => string.IsNullOrWhiteSpace(StateDirectory)
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
            "presence", "agents", Host)
        : Path.GetFullPath(StateDirectory);
}

public sealed class MqttOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 1883;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string TopicRoot { get; set; } = "presence";

    /// <summary>Empty means <c>presence-agent-{host}</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>How often the connection is checked and, when lost, re-established.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the broker keeps this agent's session (and queued commands) while it is away, so a command sent
    /// during a restart is still delivered; zero asks for a fresh session on every connect.
    /// </summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class ResourceOptions
{
    public int Cpus { get; set; } = Environment.ProcessorCount;
    public int MemoryMb { get; set; } = (int)Math.Min(int.MaxValue, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024));
    public int? LinkMbps { get; set; } = 1000;
    public bool OnBattery { get; set; }
    public int? BatteryPercent { get; set; }
}

public sealed class VmOptions
{
    public string Name { get; set; } = "";
    public int MemoryMb { get; set; }

    /// <summary><c>running</c> (the default) or <c>stopped</c>.</summary>
    public string State { get; set; } = "running";

    public string? DisplayUri { get; set; }
}

/// <summary>How the simulated hypervisor pretends to move memory.</summary>
public sealed class SimulatedOptions
{
    /// <summary>The link speed a migration streams at, before the command's max_bandwidth_mbps caps it.</summary>
    public int BandwidthMbps { get; set; } = 1000;

    /// <summary>Wall-clock time between progress events of a migration.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Pages (4 KiB) the guest dirties per simulated second; they are sent again, as QEMU's pre-copy does.</summary>
    public long DirtyPagesRate { get; set; } = 2000;

    /// <summary>
    /// How much faster than real time simulated migrations run: 10 moves an 8 GiB VM at 1 Gbit/s in about 7 s
    /// instead of 70 s. Reported times (downtime_ms, total_time_ms) are in simulated time.
    /// </summary>
    public double SpeedFactor { get; set; } = 1.0;
}

/// <summary>How the libvirt driver reaches libvirtd through <c>virsh</c>.</summary>
public sealed class LibvirtOptions
{
    public string VirshPath { get; set; } = "virsh";

    /// <summary>This computer's libvirtd, passed as <c>virsh -c</c>.</summary>
    public string ConnectionUri { get; set; } = "qemu:///system";

    /// <summary>
    /// The URI another host's agent migrates to, answered by prepare_incoming; <c>{host}</c> becomes this host's
    /// name. The source's libvirtd must be able to reach it (for qemu+ssh: root's SSH key on the target).
    /// </summary>
    public string PeerUriTemplate { get; set; } = "qemu+ssh://{host}/system";

    /// <summary>
    /// When set, the migration data goes here instead of where libvirtd picks (<c>--migrateuri</c>),
    /// e.g. <c>tcp://{host}</c> for a dedicated link; <c>{host}</c> becomes the target host.
    /// </summary>
    public string? MigrateUriTemplate { get; set; }

    /// <summary>When set, a migration still running after this long pauses the guest to finish (<c>--timeout</c>).</summary>
    public TimeSpan? MigrationTimeout { get; set; }

    /// <summary>How often <c>virsh domjobinfo</c> is asked for a running migration's progress.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the domain list is read again, so VMs started or stopped by hand reach the inventory.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Which facts about this computer the agent publishes as signals (CONTRACT.md §1). All off by default.</summary>
public sealed class SensorOptions
{
    /// <summary>Where /proc and /sys are looked up; tests point it at a fake tree.</summary>
    public string Root { get; set; } = "/";

    public SensorSwitch Logind { get; set; } = new();
    public SensorSwitch Lid { get; set; } = new();
    public SensorSwitch Wifi { get; set; } = new();
    public SensorSwitch Power { get; set; } = new();

    public string LoginctlPath { get; set; } = "loginctl";
    public string NmcliPath { get; set; } = "nmcli";
}

public sealed class SensorSwitch
{
    public bool Enabled { get; set; }

    /// <summary>How often the source is read; a signal is published only when what it says changed.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);
}
