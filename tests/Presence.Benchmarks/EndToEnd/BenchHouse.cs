using System.Globalization;
using System.Text.Json.Nodes;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>How a user's desktop reaches the seat: what issue 11's "time to first pixel, every mode" sets side by side.</summary>
public enum BenchMode
{
    /// <summary>Prefers thin-client: the seat shows the VM where it runs.</summary>
    ThinClient,

    /// <summary>Prefers local: the VM moves to the seat (shown from where it runs first).</summary>
    Local,

    /// <summary>Prefers thin-client, but the VM is latency-sensitive (music, games): it moves to the seat too.</summary>
    LatencySensitive,
}

/// <summary>
/// The house the benchmark runs: one server that runs every VM, <see cref="Seats"/> desktops to sit at, and one
/// user per seat whose VM runs on the server (thin-client unless <c>mixedModes</c>). A login at a seat shows the desktop there
/// (attach_display) and moves nothing (seats run no VMs; a user may use every computer), so the latency measured is the decision path, not a migration.
/// </summary>
public sealed class BenchHouse(int seats)
{
    public const string Server = "server";

    public int Seats { get; } = seats > 0 ? seats : throw new ArgumentOutOfRangeException(nameof(seats), "a house needs at least one seat");

    public IReadOnlyList<string> SeatNames { get; } = Enumerable.Range(1, seats).Select(i => "seat-" + i.ToString("D3", CultureInfo.InvariantCulture)).ToList();

    public IReadOnlyList<string> UserNames { get; } = Enumerable.Range(1, seats).Select(i => "user-" + i.ToString("D3", CultureInfo.InvariantCulture)).ToList();

    public static string VmOf(string user) => user + "-vm";

    public const int VmMemoryMb = 512;

    /// <summary>With <c>mixedModes</c>: the i-th user's mode, the three in turn.</summary>
    public static BenchMode ModeOf(int userIndex) => (BenchMode)(userIndex % 3);

    /// <summary>
    /// A fixed-offset zone (tzdb Etc/GMT±N, whose sign is the reverse of the offset) where it is about noon at
    /// <paramref name="utc"/>: the default quiet hours (22:00–07:00) would turn a night-time run's moves into
    /// thin-client logins, and a benchmark of the default settings must not depend on when it runs.
    /// </summary>
    public static string NoonZone(DateTime utc)
    {
        var offset = 12 - utc.Hour;
        return offset switch
        {
            0 => "UTC",
            > 0 => "Etc/GMT-" + offset.ToString(CultureInfo.InvariantCulture),
            _ => "Etc/GMT+" + (-offset).ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <param name="atOnce">
    /// A login shows the desktop at once: no display hold-down (the product's default is 3 s), no cooldown and no
    /// quiet hours, so the figure is the path itself. False: the product's defaults.
    /// </param>
    /// <param name="mixedModes">
    /// Users take the three <see cref="BenchMode"/>s in turn (<see cref="ModeOf"/>) and seats may run VMs, so a local
    /// or latency-sensitive user's VM moves to the seat. False: every user thin-client, seats run no VMs.
    /// </param>
    /// <param name="timeZone">The house's time zone (tzdb name).</param>
    public string Json(bool atOnce, bool mixedModes = false, string timeZone = "UTC")
    {
        var hosts = new JsonArray { new JsonObject { ["Name"] = Server, ["Role"] = "Server", ["CanRunVms"] = true, ["LinkMbps"] = 10000 } };
        foreach (var seat in SeatNames)
        {
            hosts.Add(new JsonObject { ["Name"] = seat, ["Role"] = "Desktop", ["CanRunVms"] = mixedModes, ["LinkMbps"] = 1000 });
        }

        var users = new JsonArray();
        var vms = new JsonArray();
        for (var i = 0; i < UserNames.Count; i++)
        {
            var user = UserNames[i];
            users.Add(new JsonObject
            {
                ["Name"] = user, ["Vm"] = VmOf(user), ["HomeHost"] = Server,
                ["AllowedHosts"] = new JsonArray(SeatNames.Prepend(Server).Select(h => (JsonNode)h).ToArray()),
                ["PreferredMode"] = mixedModes && ModeOf(i) == BenchMode.Local ? "Local" : "ThinClient",
            });
            vms.Add(new JsonObject
            {
                ["Name"] = VmOf(user), ["MemoryMb"] = VmMemoryMb, ["Owner"] = user,
                ["DisplayUri"] = $"spice://{Server}:{5900 + i + 1}",
                ["LatencySensitive"] = mixedModes && ModeOf(i) == BenchMode.LatencySensitive,
            });
        }

        var policy = new JsonObject { ["SharedStorage"] = Path.Combine(Path.GetTempPath(), "presence-bench-shared") };
        if (atOnce)
        {
            policy["HoldDown"] = new JsonObject { ["AttachDisplay"] = "0s", ["LiveMigration"] = "0s", ["SuspendResume"] = "0s" };
            policy["Cooldown"] = "0s";
            policy["QuietHours"] = "off";
        }

        return new JsonObject
        {
            ["House"] = new JsonObject { ["TimeZone"] = timeZone, ["Hosts"] = hosts, ["Users"] = users, ["Vms"] = vms, ["Policy"] = policy },
        }.ToJsonString();
    }
}
