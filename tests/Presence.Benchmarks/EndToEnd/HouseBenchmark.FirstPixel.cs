using System.Diagnostics;
using Npgsql;
using Presence.Agent;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>The first pixel: a console login under the product's default settings, in each mode.</summary>
public static partial class HouseBenchmark
{
    /// <summary>
    /// The product's default settings, a console login at a seat by one user of each mode (thin-client, prefers local,
    /// latency-sensitive VM), one seat and one person each, a quarter of a second apart so the default cooldown and
    /// hold-downs see independent arrivals. The first pixel is the first attach_display of that user's VM at that
    /// seat's agent, whatever comes after it (a local user's VM then moves to the seat). Issue 11: within a second,
    /// every mode. The house is where it is about noon (<see cref="BenchHouse.NoonZone"/>), outside the default quiet hours.
    /// </summary>
    private static async Task MeasureFirstPixelWithDefaultsAsync(string connectionString, string directory, BenchHouse house,
        HouseBenchOptions options, HouseReport report, TextWriter log)
    {
        var perMode = Math.Max(2, options.Logins / 15);
        var users = Enum.GetValues<BenchMode>()
            .SelectMany(mode => Enumerable.Range(0, house.Seats).Where(i => BenchHouse.ModeOf(i) == mode).Take(perMode))
            .Order()
            .ToList();
        await SayAsync(log, $"time to first pixel under the default settings: {users.Count} logins, every mode");
        await using var server = await BenchServer.StartAsync(connectionString, directory, house.Json(atOnce: false, mixedModes: true, timeZone: BenchHouse.NoonZone(DateTime.UtcNow)), options.Stall);
        var agents = new List<PresenceAgent>();
        try
        {
            agents.AddRange(await StartAgentsAsync(server, house));
            await WaitForAgentsAsync(server, house.Seats + 1, options.Stall);
            await using var watcher = await BenchClient.ConnectAsync(server.MqttPort, "bench-watcher", "presence-cli", "presence/agents/+/commands");
            var times = Enum.GetValues<BenchMode>().ToDictionary(m => m, _ => new List<double>());
            var waits = new List<Task>();
            foreach (var i in users)
            {
                var (seat, user, mode) = (house.SeatNames[i], house.UserNames[i], BenchHouse.ModeOf(i));
                await using var publisher = await BenchClient.ConnectAsync(server.MqttPort, "bench-" + seat, seat);
                var mark = watcher.Count;
                var start = Stopwatch.GetTimestamp();
                await publisher.PublishAsync($"presence/hosts/{seat}/signals/session",
                    $$"""{"id":"fp-{{i}}","user":"{{user}}","state":"login","seat":"console"}""");
                waits.Add(watcher.WaitForAsync(mark, a => a.Topic == $"presence/agents/{seat}/commands" && IsCommand(a, "attach_display", BenchHouse.VmOf(user)),
                        options.Stall, $"attach_display of {BenchHouse.VmOf(user)} ({mode}) at {seat} under the default settings")
                    .ContinueWith(t =>
                    {
                        var ms = Stopwatch.GetElapsedTime(start, t.Result.Timestamp).TotalMilliseconds;
                        lock (times) times[mode].Add(ms);
                    }, TaskScheduler.Default));
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }

            await Task.WhenAll(waits);
            await AssertMovesPlannedAsync(connectionString, house, users.Where(i => BenchHouse.ModeOf(i) != BenchMode.ThinClient), options.Stall);
            foreach (var (mode, key, what) in new[]
                     {
                         (BenchMode.ThinClient, "thin", "thin-client user"),
                         (BenchMode.Local, "local", "user who prefers local (the VM then moves to the seat)"),
                         (BenchMode.LatencySensitive, "latency", "latency-sensitive VM (it then moves to the seat)"),
                     })
            {
                var sorted = times[mode].Order().ToList();
                report.Add($"pixel_{key}_p50", $"time to first pixel, console login, {what}, default settings, p50 ({sorted.Count} logins)", Percentile(sorted, 50), "ms");
                var p95 = Percentile(sorted, 95);
                report.Add($"pixel_{key}_p95", $"time to first pixel, console login, {what}, default settings, p95", p95, "ms", $"≤ {FirstPixelP95Target} ms", p95 <= FirstPixelP95Target);
            }
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A local or latency-sensitive user's login must plan the live migration to the seat, or the figure is only a
    /// thin-client one under another name: each such user's stream holds a PlacementDecided of mode LiveMigration.
    /// </summary>
    private static async Task AssertMovesPlannedAsync(string connectionString, BenchHouse house, IEnumerable<int> users, TimeSpan stall)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await using var command = db.CreateCommand(
            "select exists (select 1 from presence.mt_events where stream_id = $1 and type = 'placement_decided' " +
            "and lower(replace(data->>'Mode', '_', '')) = 'livemigration')");
        var parameter = new NpgsqlParameter { Value = "" };
        command.Parameters.Add(parameter);
        foreach (var i in users)
        {
            parameter.Value = house.UserNames[i];
            var clock = Stopwatch.StartNew();
            while (!(bool)(await command.ExecuteScalarAsync())!)
            {
                if (clock.Elapsed > stall)
                {
                    throw new InvalidOperationException(
                        $"{house.UserNames[i]} ({BenchHouse.ModeOf(i)}) logged in at {house.SeatNames[i]} but no live migration there was planned: " +
                        $"the time to first pixel of that mode would measure a thin-client login\n{await DiagnosisAsync(connectionString, house.UserNames[i])}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }
        }
    }
}
