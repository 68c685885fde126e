using System.Security.Cryptography;
using System.Text;

namespace Presence.Domain.House;

public enum HostRole { Server, Desktop, Laptop }

/// <summary>How a session follows its owner when the VM may not or should not move.</summary>
public enum PreferredMode
{
    /// <summary>Live-migrate the VM onto the seat the user sits at.</summary>
    Local,

    /// <summary>Leave the VM where it runs and show it on the seat.</summary>
    ThinClient,
}

public sealed record HostSpec(string Name, HostRole Role, bool CanRunVms, int LinkMbps);

public sealed record UserSpec(
    string Name,
    string Vm,
    string HomeHost,
    IReadOnlyList<string> AllowedHosts,
    PreferredMode PreferredMode = PreferredMode.Local);

public sealed record VmSpec(string Name, int MemoryMb, string Owner, string? DisplayUri = null);

/// <summary>Tunables of the migration saga; durations are NodaTime values, never bare numbers.</summary>
public sealed record MigrationSettings(int DowntimeLimitMs = 300, int MaxBandwidthMbps = 0)
{
    /// <summary>The bandwidth cap sent to the source agent: the slower link unless a cap is configured.</summary>
    public int BandwidthFor(int sourceLinkMbps, int targetLinkMbps)
    {
        var link = Math.Max(1, Math.Min(sourceLinkMbps, targetLinkMbps));
        return MaxBandwidthMbps > 0 ? Math.Min(link, MaxBandwidthMbps) : link;
    }
}

/// <summary>
/// The house as the decider sees it: who and what exists, and the settings of every rule. It is an argument of
/// every decision, and each decision records <see cref="Version"/> so a replay can tell which settings it ran under.
/// </summary>
public sealed record HousePolicy
{
    public required IReadOnlyList<HostSpec> Hosts { get; init; }
    public required IReadOnlyList<UserSpec> Users { get; init; }
    public required IReadOnlyList<VmSpec> Vms { get; init; }
    public MigrationSettings Migration { get; init; } = new();

    /// <summary>A short content hash: the same settings always give the same version.</summary>
    /// <remarks>
    /// Computed on every read, never cached in a field: a record's <c>with</c> copies private fields, so a cached
    /// version would follow a copy whose settings changed. Hashing a few hundred bytes is cheap.
    /// </remarks>
    public string Version => ComputeVersion();

    public HostSpec? Host(string name) => Hosts.FirstOrDefault(h => h.Name == name);

    public UserSpec? User(string name) => Users.FirstOrDefault(u => u.Name == name);

    public VmSpec? Vm(string name) => Vms.FirstOrDefault(v => v.Name == name);

    public UserSpec? OwnerOfVm(string vm) => Vm(vm) is { } spec ? User(spec.Owner) : null;

    /// <summary>May this user sit at (and have a VM on) this host? Signals that break this are rejected at the door.</summary>
    public bool MayUse(string user, string host) =>
        User(user) is { } spec && spec.AllowedHosts.Contains(host);

    private string ComputeVersion()
    {
        var text = new StringBuilder();
        foreach (var h in Hosts.OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append($"h|{h.Name}|{h.Role}|{h.CanRunVms}|{h.LinkMbps}\n");
        }

        foreach (var u in Users.OrderBy(u => u.Name, StringComparer.Ordinal))
        {
            text.Append($"u|{u.Name}|{u.Vm}|{u.HomeHost}|{string.Join(',', u.AllowedHosts)}|{u.PreferredMode}\n");
        }

        foreach (var v in Vms.OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            text.Append($"v|{v.Name}|{v.MemoryMb}|{v.Owner}|{v.DisplayUri}\n");
        }

        text.Append($"m|{Migration.DowntimeLimitMs}|{Migration.MaxBandwidthMbps}\n");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return "p-" + Convert.ToHexStringLower(hash)[..12];
    }
}
