namespace Presence.Domain.Tests.Support;

/// <summary>
/// The small house every test runs in: a basement server, an iMac, a laptop and the kids' PC; alice may use the first
/// three, and her VM alice-desktop (8 GiB) runs on the basement server and is shown over SPICE.
/// </summary>
public static class TheHouse
{
    public const string AliceName = "alice";
    public const string Vm = "alice-desktop";
    public const string Basement = "basement";
    public const string Imac = "imac";
    public const string Laptop = "laptop";

    /// <summary>In the house, but not among alice's allowed hosts.</summary>
    public const string KidsPc = "kids-pc";

    public const int Gib = 1024;

    /// <summary>The house's time zone in the tests that need one: it has summer time, so the offset changes.</summary>
    public const string Berlin = "Europe/Berlin";

    public const string HomeWifi = "lindenweg";
    public const string Display = "spice://basement:5930";

    public static HousePolicy Policy() => new()
    {
        Hosts =
        [
            new HostSpec(Basement, HostRole.Server, CanRunVms: true, LinkMbps: 1000),
            new HostSpec(Imac, HostRole.Desktop, CanRunVms: true, LinkMbps: 1000),
            new HostSpec(Laptop, HostRole.Laptop, CanRunVms: true, LinkMbps: 300),
            new HostSpec(KidsPc, HostRole.Desktop, CanRunVms: true, LinkMbps: 1000),
        ],
        Users = [new UserSpec(AliceName, Vm, Basement, [Basement, Imac, Laptop])],
        Vms = [new VmSpec(Vm, 8 * Gib, AliceName)],
    };

    /// <summary>Every agent online with room to spare; alice-desktop runs on the basement server.</summary>
    public static HouseSnapshot Facts() => new(
    [
        new HostFacts(Basement, true, 64 * Gib, 40 * Gib, 1000, false, null, [Running(Vm, Display)]),
        new HostFacts(Imac, true, 16 * Gib, 12 * Gib, 1000, false, null, []),
        new HostFacts(Laptop, true, 16 * Gib, 12 * Gib, 300, false, 80, []),
        new HostFacts(KidsPc, true, 16 * Gib, 12 * Gib, 1000, false, null, []),
    ]);

    public static VmFact Running(string vm = Vm, string? display = Display) => new(vm, VmRunState.Running, 8 * Gib, display);

    // --- changes to the policy ---

    public static HousePolicy Prefers(this HousePolicy policy, PreferredMode mode) =>
        policy.ChangeAlice(u => u with { PreferredMode = mode });

    public static HousePolicy AllowsAlice(this HousePolicy policy, params string[] hosts) =>
        policy.ChangeAlice(u => u with { AllowedHosts = hosts });

    public static HousePolicy CannotRunVms(this HousePolicy policy, string host) =>
        policy with { Hosts = policy.Hosts.Select(h => h.Name == host ? h with { CanRunVms = false } : h).ToList() };

    public static HousePolicy VmDisplay(this HousePolicy policy, string? uri) =>
        policy with { Vms = policy.Vms.Select(v => v.Name == Vm ? v with { DisplayUri = uri } : v).ToList() };

    /// <summary>alice-desktop is a music or game VM: it wants to run on the seat.</summary>
    public static HousePolicy LatencySensitive(this HousePolicy policy) =>
        policy with { Vms = policy.Vms.Select(v => v.Name == Vm ? v with { LatencySensitive = true } : v).ToList() };

    public static HousePolicy Automation(this HousePolicy policy, AutomationLevel level) =>
        policy.ChangeAlice(u => u with { Automation = level });

    public static HousePolicy HomeIs(this HousePolicy policy, string host) =>
        policy.ChangeAlice(u => u with { HomeHost = host });

    /// <summary>The soft rules' settings; every default switches its rule off.</summary>
    public static HousePolicy Settings(this HousePolicy policy, Func<PolicySettings, PolicySettings> change) =>
        policy with { Settings = change(policy.Settings) };

    private static HousePolicy ChangeAlice(this HousePolicy policy, Func<UserSpec, UserSpec> change) =>
        policy with { Users = policy.Users.Select(u => u.Name == AliceName ? change(u) : u).ToList() };

    // --- changes to what the agents report ---

    public static HouseSnapshot Change(this HouseSnapshot house, string host, Func<HostFacts, HostFacts> change) =>
        new(house.Hosts.Select(h => h.Name == host ? change(h) : h).ToList());

    public static HouseSnapshot Offline(this HouseSnapshot house, string host) =>
        house.Change(host, h => h with { AgentOnline = false });

    public static HouseSnapshot Online(this HouseSnapshot house, string host) =>
        house.Change(host, h => h with { AgentOnline = true });

    public static HouseSnapshot FreeMemory(this HouseSnapshot house, string host, int mb) =>
        house.Change(host, h => h with { MemoryFreeMb = mb });

    /// <summary>alice-desktop runs on exactly these hosts (none: no agent reports it).</summary>
    public static HouseSnapshot VmRunsOn(this HouseSnapshot house, params string[] hosts) =>
        new(house.Hosts.Select(h => h with
        {
            Vms = h.Vms.Where(v => v.Name != Vm).Concat(hosts.Contains(h.Name) ? [Running(Vm, $"spice://{h.Name}:5930")] : []).ToList(),
        }).ToList());

    public static HouseSnapshot InMaintenance(this HouseSnapshot house, string host, bool on = true) =>
        house.Change(host, h => h with { InMaintenance = on });

    public static HouseSnapshot OnBattery(this HouseSnapshot house, string host, int percent) =>
        house.Change(host, h => h with { OnBattery = true, BatteryPercent = percent });

    public static HouseSnapshot OnMains(this HouseSnapshot house, string host) =>
        house.Change(host, h => h with { OnBattery = false });

    public static HouseSnapshot NoDisplayUri(this HouseSnapshot house) =>
        new(house.Hosts.Select(h => h with { Vms = h.Vms.Select(v => v with { DisplayUri = null }).ToList() }).ToList());
}
