using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Server.Tests.Infrastructure;
using Presence.Tests.Shared;
using Wolverine;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 11 §4): what Wolverine's scheduled-message poller costs an idle server, side by side in one run: the
/// server as configured (waits fire from memory on time, the durable copy on a 1 s poll) against the rejected way
/// to be on time, polling every 25 ms. Commits/s of the server's database (pg_stat_database) and CPU of the server
/// (this test process) and of its PostgreSQL backends.
/// </summary>
[Trait("Category", "Drill")]
public sealed class idle_cost_of_waiting(ITestOutputHelper output)
{
    private static readonly int Seconds = Drill.Count("PRESENCE_DRILL_IDLE_SECONDS", 5);
    private static readonly TimeSpan StartReported = TimeSpan.FromSeconds(11);

    [Fact]
    public async Task polling_fast_enough_to_be_on_time_would_cost_an_idle_server_far_more()
    {
        var configured = await IdleAsync("as configured (1 s poll)", null);
        var fast = await IdleAsync("option A (25 ms poll)", s => s.ConfigureWolverine(o => o.Durability.ScheduledJobPollingTime = TimeSpan.FromMilliseconds(25)));

        Assert.True(configured.CommitsPerSecond < fast.CommitsPerSecond / 4,
            $"as configured {configured.CommitsPerSecond:0.0} commits/s against {fast.CommitsPerSecond:0.0} with a 25 ms poll");
    }

    private async Task<(double CommitsPerSecond, double ServerCpu, double BackendCpu)> IdleAsync(string what, Action<IServiceCollection>? services)
    {
        await using var server = await TestServer.StartAsync(services: services);
        var ready = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();

        // A backend reports its counts at most once a second, and one that went idle within a second of its last
        // report holds them until it has been idle 10 s (PGSTAT_IDLE_INTERVAL). The start's pooled connections do
        // that, so their work is let through before the window opens, or a slow machine counts it as idling.
        await Eventually.TrueAsync(async () => (await StatsAsync(connection)).Commits > 0, "the server's first commits reported");
        await Task.Delay(StartReported - ready.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
        var (commits0, backends0) = await StatsAsync(connection);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var end = DateTime.UtcNow.AddSeconds(Seconds);
        await Eventually.TrueAsync(() => Task.FromResult(DateTime.UtcNow >= end), $"{Seconds} s of idling", TimeSpan.FromSeconds(Seconds + 10));
        var (commits1, backends1) = await StatsAsync(connection);
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        var elapsed = clock.Elapsed.TotalSeconds;

        var commits = (commits1 - commits0 - 1) / elapsed; // less the read of our own
        var serverCpu = (cpu1 - cpu0).TotalSeconds / elapsed * 100;
        var backendCpu = backends1.Sum(b => b.Value - backends0.GetValueOrDefault(b.Key)) / 100.0 / elapsed * 100;
        output.WriteLine($"{what}: idle {elapsed:0.0} s, {commits:0.0} commits/s; CPU % of a core: server (test process) {serverCpu:0.0}, " +
                         $"its PostgreSQL backends {backendCpu:0.0}");
        return (commits, serverCpu, backendCpu);
    }

    private static async Task<(long Commits, Dictionary<int, long> BackendTicks)> StatsAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            "select xact_commit, array(select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()) " +
            "from pg_stat_database where datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var commits = reader.GetInt64(0);
        var ticks = new Dictionary<int, long>();
        foreach (var pid in reader.GetFieldValue<int[]>(1))
        {
            try
            {
                // utime and stime, in clock ticks (100 a second), fields 14 and 15 of /proc/<pid>/stat.
                var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                ticks[pid] = long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException)
            {
                // A pooled connection closed meanwhile: its ticks are not this window's.
            }
        }

        return (commits, ticks);
    }
}
