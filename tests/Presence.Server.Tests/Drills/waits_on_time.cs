using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;
using Presence.Tests.Shared;
using Wolverine;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 11 §4): how late settle waits and phase timeouts fire, measured from the due time the decider wrote
/// to the instant the handler that ran when it fired stamped on its events, and what the scheduled-message poller
/// costs an idle server (commits/s in pg_stat_database, CPU of the server and of its PostgreSQL backends).
/// </summary>
[Trait("Category", "Drill")]
public sealed class waits_on_time(ITestOutputHelper output)
{
    private static readonly int Rounds = Drill.Count("PRESENCE_DRILL_WAITS", 6);
    private static readonly int IdleSeconds = Drill.Count("PRESENCE_DRILL_IDLE_SECONDS", 10);

    private static Action<IServiceCollection>? Polling()
    {
        var ms = Environment.GetEnvironmentVariable("PRESENCE_DRILL_POLL_MS");
        return string.IsNullOrEmpty(ms) ? null : s => s.ConfigureWolverine(o => o.Durability.ScheduledJobPollingTime = TimeSpan.FromMilliseconds(int.Parse(ms)));
    }

    [Fact]
    public async Task settle_waits_fire_on_time()
    {
        await using var house = await RunningHouse.StartAsync(
            TestHouse.WithPolicy(("HoldDown", """{ "AttachDisplay": "0s", "LiveMigration": "1s", "SuspendResume": "1s" }""")),
            TestAgents.DefaultSpeed, Polling(), ("basement", [("alice-desktop", 2048)]), ("imac", []));

        var seats = new[] { "imac", "basement" };
        for (var i = 0; i < Rounds; i++)
        {
            var seat = seats[i % 2];
            await house.PublishAsHostAsync(seat, $"presence/hosts/{seat}/signals/session", $$"""{"id":"settle-{{i}}","user":"alice","state":"login"}""");
            await Eventually.TrueAsync(async () => (await house.SagaAsync("alice")) is { VmHost: var host, Migration: null, Settling: null } && host == seat,
                $"round {i}: alice's VM on {seat}", TimeSpan.FromSeconds(60));
        }

        var lateness = Lateness(await house.StreamAsync("alice"));
        output.WriteLine($"settle waits: {Summary(lateness)}");
        Assert.Equal(Rounds, lateness.Count);
        await IdleAsync(house.Server);
    }

    [Fact]
    public async Task phase_timeouts_fire_on_time()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.WithPolicy(("PrepareTimeout", "\"1s\"")),
            TestAgents.DefaultSpeed, Polling(), ("basement", [("alice-desktop", 2048)]));
        await using var imac = await house.SilentAgentAsync("imac");

        for (var i = 0; i < Rounds; i++)
        {
            await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", $$"""{"id":"timeout-in-{{i}}","user":"alice","state":"login"}""");
            var failures = i + 1;
            await Eventually.TrueAsync(async () => (await house.StreamAsync("alice")).OfType<MigrationFailed>().Count() == failures,
                $"round {i}: the prepare timeout ran out", TimeSpan.FromSeconds(60));
            await house.PublishAsHostAsync("basement", "presence/hosts/basement/signals/session", $$"""{"id":"timeout-back-{{i}}","user":"alice","state":"login"}""");
            await Eventually.TrueAsync(async () => (await house.SagaAsync("alice")) is { Seat: "basement" }, $"round {i}: alice back at the basement");
        }

        var lateness = Lateness(await house.StreamAsync("alice"));
        output.WriteLine($"phase timeouts: {Summary(lateness)}");
        Assert.Equal(Rounds, lateness.Count);
    }

    /// <summary>For each wait in the stream, how long after its due time the first event its firing caused was stamped.</summary>
    internal static List<Duration> Lateness(IReadOnlyList<object> stream)
    {
        var late = new List<Duration>();
        for (var i = 0; i < stream.Count; i++)
        {
            var fired = stream[i] switch
            {
                SettlingStarted s => (Due: s.DueAt, After: stream.Skip(i + 1).FirstOrDefault(e => e is PlacementDecided or MoveSuppressed or SettlingLapsed)),
                PhaseTimeoutScheduled t when t.Phase == Phases.Preparing =>
                    (Due: t.DueAt, After: stream.Skip(i + 1).FirstOrDefault(e => e is MigrationFailed f && f.MigrationId == t.MoveId)),
                _ => (Due: default(Instant), After: null),
            };
            if (fired.After is IUserEvent e)
            {
                late.Add(e.At - fired.Due);
            }
        }

        return late;
    }

    internal static string Summary(List<Duration> lateness)
    {
        var ms = lateness.Select(d => d.TotalMilliseconds).Order().ToList();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return $"{ms.Count} fired, late by p50 {P(0.5):0} ms, p95 {P(0.95):0} ms, max {ms[^1]:0} ms, min {ms[0]:0} ms (all: {string.Join(" ", ms.Select(m => m.ToString("0")))})";
    }

    /// <summary>The idle server's cost: its database's commits per second and the CPU of the server and its backends.</summary>
    private async Task IdleAsync(TestServer server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        var window = TimeSpan.FromSeconds(IdleSeconds);
        var (commits0, backends0) = await StatsAsync(connection);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        var (commits1, backends1) = await StatsAsync(connection);
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        var seconds = clock.Elapsed.TotalSeconds;
        var backendTicks = backends1.Sum(b => b.Value - backends0.GetValueOrDefault(b.Key));
        output.WriteLine($"idle for {seconds:0.0} s: {(commits1 - commits0) / seconds:0.0} commits/s; CPU: server (test process) " +
                         $"{(cpu1 - cpu0).TotalSeconds / seconds * 100:0.0} %, its PostgreSQL backends {backendTicks / 100.0 / seconds * 100:0.0} % of a core");
    }

    private static async Task<(long Commits, Dictionary<int, long> BackendTicks)> StatsAsync(NpgsqlConnection connection)
    {
        // A backend reports its counts at most once a second and, once idle, within 10 s: read after a forced flush of ours.
        await using var command = new NpgsqlCommand(
            "select xact_commit, array(select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()) " +
            "from pg_stat_database where datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var commits = reader.GetInt64(0);
        var pids = reader.GetFieldValue<int[]>(1);
        var ticks = new Dictionary<int, long>();
        foreach (var pid in pids)
        {
            try
            {
                var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                ticks[pid] = long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException)
            {
            }
        }

        return (commits, ticks);
    }
}
