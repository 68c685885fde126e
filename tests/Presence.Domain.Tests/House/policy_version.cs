using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.House;

/// <summary>Each decision records the policy version, so a replay can tell which settings it ran under.</summary>
public class policy_version
{
    [Fact]
    public void equal_settings_give_the_same_version()
    {
        Assert.Equal(Policy().Version, Policy().Version);
        Assert.Matches("^p-[0-9a-f]{12}$", Policy().Version);
    }

    [Fact]
    public void the_order_hosts_users_and_vms_are_listed_in_does_not_matter()
    {
        var policy = Policy();
        var reordered = policy with
        {
            Hosts = policy.Hosts.Reverse().ToList(),
            Users = policy.Users.Reverse().ToList(),
            Vms = policy.Vms.Reverse().ToList(),
        };

        Assert.Equal(policy.Version, reordered.Version);
    }

    public static TheoryData<string> Changes => new(Changed.Keys);

    private static readonly Dictionary<string, Func<HousePolicy, HousePolicy>> Changed = new()
    {
        ["a host's role"] = p => p with { Hosts = p.Hosts.Select(h => h.Name == Imac ? h with { Role = HostRole.Server } : h).ToList() },
        ["whether a host runs VMs"] = p => p.CannotRunVms(Imac),
        ["a host's link"] = p => p with { Hosts = p.Hosts.Select(h => h.Name == Laptop ? h with { LinkMbps = 100 } : h).ToList() },
        ["another host"] = p => p with { Hosts = [.. p.Hosts, new HostSpec("garage", HostRole.Desktop, true, 1000)] },
        ["allowed hosts"] = p => p.AllowsAlice(Basement, Imac),
        ["preferred mode"] = p => p.Prefers(PreferredMode.ThinClient),
        ["home host"] = p => p with { Users = p.Users.Select(u => u with { HomeHost = Imac }).ToList() },
        ["another user"] = p => p with { Users = [.. p.Users, new UserSpec("bob", "bob-desktop", Basement, [Basement])] },
        ["vm memory"] = p => p with { Vms = p.Vms.Select(v => v with { MemoryMb = 4 * Gib }).ToList() },
        ["vm display"] = p => p.VmDisplay("vnc://basement:5900"),
        ["downtime limit"] = p => p with { Migration = new MigrationSettings(DowntimeLimitMs: 500) },
        ["bandwidth cap"] = p => p with { Migration = new MigrationSettings(MaxBandwidthMbps: 100) },
        ["automation level"] = p => p.Automation(AutomationLevel.Recommend),
        ["latency-sensitive vm"] = p => p.LatencySensitive(),
        ["time zone"] = p => p.Settings(x => x with { TimeZone = Berlin }),
        ["hold-down"] = p => p.Settings(x => x with { HoldDown = new HoldDowns(Duration.Zero, Duration.FromSeconds(30), Duration.Zero) }),
        ["cooldown"] = p => p.Settings(x => x with { Cooldown = Duration.FromMinutes(10) }),
        ["quiet hours"] = p => p.Settings(x => x with { QuietHours = new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)) }),
        ["laptop battery"] = p => p.Settings(x => x with { LaptopMinBatteryPercent = 20 }),
        ["idle away"] = p => p.Settings(x => x with { IdleAway = Duration.FromMinutes(15) }),
        ["home ssid"] = p => p.Settings(x => x with { HomeSsid = HomeWifi }),
        ["leave window"] = p => p.Settings(x => x with { LeaveWindow = Duration.FromMinutes(3) }),
        ["shared storage"] = p => p.Settings(x => x with { SharedStorage = "/mnt/nas" }),
        ["minimum benefit"] = p => p.Settings(x => x with { MinimumBenefit = 2 }),
        ["slow migration"] = p => p.Settings(x => x with { SlowMigration = Duration.FromMinutes(1) }),
        ["prepare timeout"] = p => p.Settings(x => x with { PrepareTimeout = Duration.FromSeconds(30) }),
        ["migration timeout"] = p => p.Settings(x => x with { MigrationTimeout = Duration.FromSeconds(60) }),
        ["suspend timeout"] = p => p.Settings(x => x with { SuspendTimeout = Duration.FromMinutes(5) }),
        ["resume timeout"] = p => p.Settings(x => x with { ResumeTimeout = Duration.FromMinutes(5) }),
        ["display timeout"] = p => p.Settings(x => x with { DisplayTimeout = Duration.FromSeconds(30) }),
        ["progress interval"] = p => p.Settings(x => x with { ProgressInterval = Duration.FromSeconds(2) }),
        ["detach on lock"] = p => p.Settings(x => x with { DetachOnLock = true }),
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void a_changed_setting_gives_a_different_version(string change)
    {
        Assert.NotEqual(Policy().Version, Changed[change](Policy()).Version);
    }

    [Theory]
    [MemberData(nameof(Changes))]
    public void a_copy_with_a_changed_setting_gets_its_own_version_even_after_the_original_was_read(string change)
    {
        var policy = Policy();
        var before = policy.Version; // the server reads it on every decision

        Assert.NotEqual(before, Changed[change](policy).Version);
        Assert.Equal(Changed[change](Policy()).Version, Changed[change](policy).Version);
    }

    [Fact]
    public void decisions_record_the_version_of_the_policy_they_ran_under()
    {
        var s = Scenario.AliceOnTheBasementServer();
        var original = s.Policy.Version;

        s.WithPolicy(p => p with { Migration = new MigrationSettings(DowntimeLimitMs: 500) })
            .When(Alice.LogsInAt(Imac));

        Assert.NotEqual(original, s.The<PlacementDecided>().PolicyVersion);
        Assert.Equal((Policy() with { Migration = new MigrationSettings(DowntimeLimitMs: 500) }).Version, s.The<PlacementDecided>().PolicyVersion);
    }

    [Theory]
    [InlineData("fi-FI")]
    [InlineData("de-DE")]
    public void the_version_does_not_depend_on_the_servers_culture(string culture)
    {
        var policy = Policy().Settings(x => x with
        {
            QuietHours = new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)),
            MinimumBenefit = 1.5,
            Cooldown = Duration.FromMinutes(10),
        });
        var invariant = policy.Version;
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(culture);
            Assert.Equal(invariant, policy.Version);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void reading_the_version_does_not_change_what_the_policy_equals()
    {
        var policy = Policy();
        var copy = policy with { };

        _ = policy.Version;

        Assert.Equal(copy, policy);
    }
}
