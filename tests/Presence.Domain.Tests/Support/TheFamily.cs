namespace Presence.Domain.Tests.Support;

/// <summary>
/// The whole house of DESIGN.md for tests that need everyone: a 16-core basement server, the iMac upstairs, the kids'
/// desktop and a laptop; four people with a VM each, all running in the basement to begin with.
/// </summary>
public static class TheFamily
{
    public const string Basement = "basement";
    public const string Imac = "imac";
    public const string KidsPc = "kids-pc";
    public const string Laptop = "laptop";

    /// <summary>Prefers her VM local; works upstairs.</summary>
    public const string Alice = "alice";

    /// <summary>Thin client; takes the laptop out in the afternoon.</summary>
    public const string Bob = "bob";

    /// <summary>Makes music (a latency-sensitive VM) and wants to approve every move.</summary>
    public const string Carol = "carol";

    /// <summary>The kid: thin client, the kids' desktop only.</summary>
    public const string Dan = "dan";

    public const string HomeWifi = "lindenweg";

    private const int Gib = 1024;

    public static HousePolicy Policy() => new()
    {
        Hosts =
        [
            new HostSpec(Basement, HostRole.Server, CanRunVms: true, LinkMbps: 1000),
            new HostSpec(Imac, HostRole.Desktop, CanRunVms: true, LinkMbps: 1000),
            new HostSpec(KidsPc, HostRole.Desktop, CanRunVms: true, LinkMbps: 1000),
            new HostSpec(Laptop, HostRole.Laptop, CanRunVms: true, LinkMbps: 300),
        ],
        Users =
        [
            new UserSpec(Alice, "alice-desktop", Basement, [Basement, Imac, Laptop]),
            new UserSpec(Bob, "bob-desktop", Basement, [Basement, Imac, KidsPc, Laptop], PreferredMode.ThinClient),
            new UserSpec(Carol, "carol-music", Basement, [Basement, Imac, KidsPc], PreferredMode.ThinClient, AutomationLevel.Recommend),
            new UserSpec(Dan, "dan-games", Basement, [Basement, KidsPc], PreferredMode.ThinClient),
        ],
        Vms =
        [
            new VmSpec("alice-desktop", 8 * Gib, Alice),
            new VmSpec("bob-desktop", 4 * Gib, Bob),
            new VmSpec("carol-music", 4 * Gib, Carol, LatencySensitive: true),
            new VmSpec("dan-games", 4 * Gib, Dan),
        ],
        Settings = new PolicySettings
        {
            TimeZone = "Europe/Berlin",
            // Showing a VM is cheap, so at once; moving one waits half a minute, waking a frozen one a minute.
            HoldDown = new HoldDowns(Duration.Zero, Duration.FromSeconds(30), Duration.FromMinutes(1)),
            Cooldown = Duration.FromMinutes(15),
            QuietHours = new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)),
            LaptopMinBatteryPercent = 20,
            IdleAway = Duration.FromMinutes(20),
            HomeSsid = HomeWifi,
            LeaveWindow = Duration.FromMinutes(5),
            SharedStorage = "/srv/presence/frozen",
            MinimumBenefit = 1,
        },
    };

    /// <summary>Every agent online; every VM runs in the basement and is shown over SPICE from there.</summary>
    public static HouseSnapshot Facts() => new HouseSnapshot(
    [
        new HostFacts(Basement, true, 64 * Gib, 40 * Gib, 1000, false, null, []),
        new HostFacts(Imac, true, 16 * Gib, 12 * Gib, 1000, false, null, []),
        new HostFacts(KidsPc, true, 16 * Gib, 12 * Gib, 1000, false, null, []),
        new HostFacts(Laptop, true, 16 * Gib, 12 * Gib, 300, false, 90, []),
    ]).WithVm("alice-desktop", Basement).WithVm("bob-desktop", Basement).WithVm("carol-music", Basement).WithVm("dan-games", Basement);

    /// <summary>The VM runs on <paramref name="host"/> (or nowhere), and each host's free memory follows.</summary>
    public static HouseSnapshot WithVm(this HouseSnapshot house, string vm, string? host)
    {
        var memory = Policy().Vm(vm)!.MemoryMb;
        return new(house.Hosts.Select(h =>
        {
            var had = h.Vms.Any(v => v.Name == vm);
            var has = h.Name == host;
            var vms = h.Vms.Where(v => v.Name != vm).ToList();
            if (has)
            {
                vms.Add(new VmFact(vm, VmRunState.Running, memory, $"spice://{h.Name}:{5900 + Port(vm)}"));
            }

            var free = h.MemoryFreeMb + (had ? memory : 0) - (has ? memory : 0);
            return h with { Vms = vms, MemoryFreeMb = free };
        }).ToList());
    }

    private static int Port(string vm) => Policy().Vms.Select(v => v.Name).ToList().IndexOf(vm) + 1;
}
