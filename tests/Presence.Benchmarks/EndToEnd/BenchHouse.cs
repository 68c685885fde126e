using System.Globalization;
using System.Text.Json.Nodes;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// The house the benchmark runs: one server that runs every VM, <see cref="Seats"/> desktops to sit at, and one
/// thin-client user per seat whose VM stays on the server. A login at a seat shows the desktop there
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

    /// <param name="atOnce">
    /// A login shows the desktop at once: no display hold-down (the product's default is 3 s), no cooldown and no
    /// quiet hours, so the figure is the path itself. False: the product's defaults.
    /// </param>
    public string Json(bool atOnce)
    {
        var hosts = new JsonArray { new JsonObject { ["Name"] = Server, ["Role"] = "Server", ["CanRunVms"] = true, ["LinkMbps"] = 10000 } };
        foreach (var seat in SeatNames)
        {
            hosts.Add(new JsonObject { ["Name"] = seat, ["Role"] = "Desktop", ["CanRunVms"] = false, ["LinkMbps"] = 1000 });
        }

        var users = new JsonArray();
        var vms = new JsonArray();
        for (var i = 0; i < UserNames.Count; i++)
        {
            var user = UserNames[i];
            users.Add(new JsonObject
            {
                ["Name"] = user, ["Vm"] = VmOf(user), ["HomeHost"] = Server,
                ["AllowedHosts"] = new JsonArray(SeatNames.Prepend(Server).Select(h => (JsonNode)h).ToArray()), ["PreferredMode"] = "ThinClient",
            });
            vms.Add(new JsonObject
            {
                ["Name"] = VmOf(user), ["MemoryMb"] = VmMemoryMb, ["Owner"] = user,
                ["DisplayUri"] = $"spice://{Server}:{5900 + i + 1}",
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
            ["House"] = new JsonObject { ["TimeZone"] = "UTC", ["Hosts"] = hosts, ["Users"] = users, ["Vms"] = vms, ["Policy"] = policy },
        }.ToJsonString();
    }
}
