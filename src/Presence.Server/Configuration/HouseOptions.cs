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
}

public sealed class UserOptions
{
    public string Name { get; set; } = "";
    public string Vm { get; set; } = "";
    public string HomeHost { get; set; } = "";
    public List<string> AllowedHosts { get; set; } = [];
    public PreferredMode PreferredMode { get; set; } = PreferredMode.Local;
}

public sealed class VmOptions
{
    public string Name { get; set; } = "";
    public int MemoryMb { get; set; }
    public string Owner { get; set; } = "";
    public string? DisplayUri { get; set; }
}

public sealed class PolicyOptions
{
    /// <summary>Longest pause a live migration may cause at switch-over; QEMU's default is 300ms.</summary>
    public string DowntimeLimit { get; set; } = "300ms";

    /// <summary>Cap on migration bandwidth in Mbit/s; 0 means the slower of the two hosts' links.</summary>
    public int MaxBandwidthMbps { get; set; }
}
