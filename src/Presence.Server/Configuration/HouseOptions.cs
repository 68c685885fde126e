using Presence.Domain.House;

namespace Presence.Server.Configuration;

/// <summary>The `House` section of appsettings.json: the computers, the people and their VMs.</summary>
public sealed class HouseOptions
{
    public const string Section = "House";

    public string TimeZone { get; set; } = "UTC";
    public List<HostOptions> Hosts { get; set; } = [];
    public List<UserOptions> Users { get; set; } = [];
    public List<VmOptions> Vms { get; set; } = [];
    public PolicyOptions Policy { get; set; } = new();
}

public sealed class HostOptions
{
    public string Name { get; set; } = "";
    public HostRole Role { get; set; } = HostRole.Desktop;
    public bool CanRunVms { get; set; } = true;
    public int LinkMbps { get; set; } = 1000;

    /// <summary>
    /// The address other computers reach this one at (a name or IP); empty means its <see cref="Name"/>. A VM's
    /// memory is only ever sent here: an agent's incoming_uri pointing elsewhere is refused.
    /// </summary>
    public string? Address { get; set; }
}

public sealed class UserOptions
{
    public string Name { get; set; } = "";
    public string Vm { get; set; } = "";
    public string HomeHost { get; set; } = "";
    public List<string> AllowedHosts { get; set; } = [];
    public PreferredMode PreferredMode { get; set; } = PreferredMode.Local;

    /// <summary>Manual (record only), Recommend (wait for approval) or Automatic.</summary>
    public AutomationLevel Automation { get; set; } = AutomationLevel.Automatic;
}

public sealed class VmOptions
{
    public string Name { get; set; } = "";
    public int MemoryMb { get; set; }
    public string Owner { get; set; } = "";
    public string? DisplayUri { get; set; }

    /// <summary>Music, games: run it on the seat rather than show it over the network.</summary>
    public bool LatencySensitive { get; set; }
}

public sealed class PolicyOptions
{
    /// <summary>Longest pause a live migration may cause at switch-over; QEMU's default is 300ms.</summary>
    public string DowntimeLimit { get; set; } = "300ms";

    /// <summary>Cap on migration bandwidth in Mbit/s; 0 means the slower of the two hosts' links.</summary>
    public int MaxBandwidthMbps { get; set; }

    /// <summary>How long a new seat must hold before acting, by what acting costs.</summary>
    public HoldDownOptions HoldDown { get; set; } = new();

    /// <summary>After a move, the next one (unless asked for) waits this long: against ping-pong.</summary>
    public string Cooldown { get; set; } = "10m";

    /// <summary>`22:00-07:00` in the house's time zone: no moves across the network then. Empty: none.</summary>
    public string QuietHours { get; set; } = "22:00-07:00";

    /// <summary>A laptop on battery below this takes no incoming VM.</summary>
    public int LaptopMinBatteryPercent { get; set; } = 30;

    /// <summary>
    /// Locking a seat's screen also takes the desktop off it (detach_display), as a logout always does. Off: a lock
    /// screen shows nothing, and the person is often back in a minute.
    /// </summary>
    public bool DetachOnLock { get; set; }

    /// <summary>Idle this long at a seat and the user counts as gone from it.</summary>
    public string IdleAway { get; set; } = "10m";

    /// <summary>The house's Wi-Fi (several names separated by commas); a laptop joining another network while in use is leaving the house.</summary>
    public string? HomeSsid { get; set; }

    /// <summary>Lid closed this soon after unplugging: the laptop is leaving.</summary>
    public string LeaveWindow { get; set; } = "10m";

    /// <summary>Where frozen VMs' state files go; every computer must reach it.</summary>
    public string SharedStorage { get; set; } = "/var/lib/presence/suspended";

    /// <summary>Benefit points a move to the seat must be worth (README: How Presence decides).</summary>
    public double MinimumBenefit { get; set; } = 1;

    /// <summary>Estimated migrations longer than this count a point against moving.</summary>
    public string SlowMigration { get; set; } = "5m";

    /// <summary>How long the target may take to answer prepare_incoming with ready; 0s waits forever.</summary>
    public string PrepareTimeout { get; set; } = "30s";

    /// <summary>Slack of the migrate phase's timeout: three times the move's estimate plus this; 0s waits forever.</summary>
    public string MigrationTimeout { get; set; } = "60s";

    /// <summary>How long freezing a VM into its state file may take; 0s waits forever.</summary>
    public string SuspendTimeout { get; set; } = "5m";

    /// <summary>How long waking a VM from its state file may take; 0s waits forever.</summary>
    public string ResumeTimeout { get; set; } = "5m";

    /// <summary>How long a seat may take to show a VM; 0s waits forever.</summary>
    public string DisplayTimeout { get; set; } = "30s";

    /// <summary>Migration progress is recorded at most this often unless it gained five points; 0s: each whole percent.</summary>
    public string ProgressInterval { get; set; } = "2s";
}

public sealed class HoldDownOptions
{
    public string AttachDisplay { get; set; } = "3s";
    public string LiveMigration { get; set; } = "20s";
    public string SuspendResume { get; set; } = "30s";
}
