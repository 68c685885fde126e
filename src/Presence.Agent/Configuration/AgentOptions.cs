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

    /// <summary><c>simulated</c>, <c>qemu</c> (QMP) or <c>libvirt</c> (virsh).</summary>
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

    public QemuOptions Qemu { get; set; } = new();

    public LibvirtOptions Libvirt { get; set; } = new();

    public SensorOptions Sensors { get; set; } = new();

    /// <summary>How this computer shows a VM that runs elsewhere (thin-client mode).</summary>
    public DisplayOptions Display { get; set; } = new();

    /// <summary>Whose commands this agent carries out: only those signed by the house's server.</summary>
    public TrustOptions Trust { get; set; } = new();

    public string EffectiveClientId => string.IsNullOrWhiteSpace(Mqtt.ClientId) ? $"presence-agent-{Host}" : Mqtt.ClientId;

    public string EffectiveStateDirectory => string.IsNullOrWhiteSpace(StateDirectory)
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
            "presence", "agents", Host)
        : Path.GetFullPath(StateDirectory);

    /// <summary>These options with other VMs: what the hypervisor starts from once the VMs' whereabouts are applied.</summary>
    internal AgentOptions WithVms(List<VmOptions> vms)
    {
        var copy = (AgentOptions)MemberwiseClone();
        copy.Vms = vms;
        return copy;
    }
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

    /// <summary>TLS to the broker: the embedded broker's TLS port with its pinned fingerprint, or an external broker's.</summary>
    public AgentTlsOptions Tls { get; set; } = new();
}

/// <summary>The `Agent:Mqtt:Tls` section.</summary>
public sealed class AgentTlsOptions
{
    /// <summary>Connect with TLS. Implied by a <see cref="Fingerprint"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// SHA-256 of the broker's certificate (what the server logs on start and `enroll` prints): the certificate
    /// must be exactly this one, whatever CA signed it. Empty: the certificate must chain to <see cref="CaFile"/>
    /// or to a CA this computer trusts, and name Agent:Mqtt:Host.
    /// </summary>
    public string? Fingerprint { get; set; }

    /// <summary>PEM or DER file of the CA that signed an external broker's certificate.</summary>
    public string? CaFile { get; set; }

    /// <summary>This agent's client certificate, for brokers that require client certificates: a PFX with its key, or PEM.</summary>
    public string? ClientCertificate { get; set; }

    /// <summary>PEM private key of a PEM <see cref="ClientCertificate"/>; empty: the key is in the certificate's file.</summary>
    public string? ClientKey { get; set; }

    /// <summary>The client certificate's password (PFX, or an encrypted PEM key), if it has one.</summary>
    public string? ClientCertificatePassword { get; set; }

    public bool IsOn => Enabled || !string.IsNullOrWhiteSpace(Fingerprint);
}

/// <summary>
/// The key the house's server signs commands with (CONTRACT.md §5). Without one the agent carries out no command,
/// except on a single computer: when the broker is on loopback, the key the server wrote beside its data is read.
/// </summary>
public sealed class TrustOptions
{
    /// <summary>The server's public key, base64 (what <c>presence server-key</c> prints).</summary>
    public string? ServerKey { get; set; }

    /// <summary>
    /// Read only when <see cref="ServerKey"/> is empty and the broker is on loopback (the server then runs on this
    /// computer, and writes the key here on start). The default is where a server run by the same user writes it.
    /// </summary>
    public string ServerKeyFile { get; set; } = DefaultServerKeyFile();

    /// <summary>How old (or, clocks drifting, how far in the future) a command's issued_at may be.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Beside the server's private PostgreSQL folder (Presence.Server's EmbeddedPostgres.DefaultDataDirectory).</summary>
    public static string DefaultServerKeyFile() =>
        Environment.IsPrivilegedProcess
            ? "/var/lib/presence/server-key.pub"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
                "presence", "server-key.pub");
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

    /// <summary>
    /// <c>running</c> (the default), <c>stopped</c>, or <c>absent</c>: not on this computer now, but defined here
    /// so that it can arrive (qemu needs the same devices on both ends of a migration).
    /// </summary>
    public string State { get; set; } = "running";

    public string? DisplayUri { get; set; }

    /// <summary>qemu only: arguments after the driver's own (machine, disks, network…); must match on every host.</summary>
    public List<string> QemuArguments { get; set; } = [];

    /// <summary>qemu only: the QMP socket; empty means <c>{Agent:Qemu:RunDirectory}/{name}.qmp</c>.</summary>
    public string? QmpSocket { get; set; }

    /// <summary>qemu only: a VNC port (5900–5999) the VM's display is served on; none when unset.</summary>
    public int? DisplayPort { get; set; }

    /// <summary>This VM in another state, the configured one left as it was.</summary>
    internal VmOptions With(string state)
    {
        var copy = (VmOptions)MemberwiseClone();
        copy.State = state;
        return copy;
    }
}

/// <summary>The qemu driver: how qemu is started and how migrations are steered.</summary>
public sealed class QemuOptions
{
    public string Binary { get; set; } = "qemu-system-x86_64";

    /// <summary>QMP sockets and qemu logs; empty means <c>{StateDirectory}/qemu</c>.</summary>
    public string RunDirectory { get; set; } = "";

    /// <summary><c>kvm</c>, <c>tcg</c>…; empty means kvm when /dev/kvm can be opened, tcg otherwise.</summary>
    public string Accelerator { get; set; } = "";

    /// <summary>The address incoming migrations listen on and that is handed to the source (this host's address on the LAN).</summary>
    public string MigrationAddress { get; set; } = "127.0.0.1";

    /// <summary>How often <c>query-migrate</c> is polled for progress.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Downtime allowed when the command gives none (QEMU's own default is 300 ms).</summary>
    public TimeSpan DowntimeLimit { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Dirty-memory sync rounds after which a still-running migration gets stronger CPU throttling.</summary>
    public int ConvergenceRounds { get; set; } = 8;

    /// <summary>Throttle (percent) set when a migration does not converge; QEMU's auto-converge starts at 20.</summary>
    public int StrongThrottleInitial { get; set; } = 60;

    public int StrongThrottleIncrement { get; set; } = 20;

    /// <summary>
    /// Instead of throttling harder, switch a migration that does not converge to post-copy (the target runs the
    /// guest and pulls the remaining pages). Set it on every host: the target must allow it too. It always
    /// finishes, but a link lost during post-copy loses the VM, and it can no longer be cancelled.
    /// </summary>
    public bool Postcopy { get; set; }

    /// <summary>How long a started qemu may take to open its QMP socket.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Leave the source qemu (paused in <c>postmigrate</c>) alive after a migration instead of quitting it; it no
    /// longer counts as a VM of this host either way. For inspection and tests.
    /// </summary>
    public bool KeepMigratedSource { get; set; }

    /// <summary>Quit the VMs this agent started when it stops. Off: desktops outlive an agent restart.</summary>
    public bool StopVmsOnExit { get; set; }
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

public sealed class DisplayOptions
{
    /// <summary>
    /// The viewer's command line, program first; <c>{uri}</c> is the VM's SPICE/VNC address and <c>{vm}</c> its
    /// name, e.g. <c>["remote-viewer", "--full-screen", "{uri}"]</c>. Empty: attachments are only recorded.
    /// </summary>
    public List<string> Viewer { get; set; } = [];
}
