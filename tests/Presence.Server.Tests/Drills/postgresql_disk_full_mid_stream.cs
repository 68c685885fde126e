using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using Npgsql;
using Presence.Domain.Hosts;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md): the disk under the server's PostgreSQL fills up while a computer streams signals
/// and an agent answers, at QoS 1. The cluster is the drill's own, durable, on a small tmpfs it mounts; a ballast file
/// fills the rest. PostgreSQL then answers every query and refuses every write, until its next checkpoint, which
/// cannot write either (forced here rather than waited for: checkpoint_timeout is 5 minutes). While it lasts `/health`
/// says 503 and names the database; then the operator frees the space and, if PostgreSQL went down, starts it again
/// (as systemd would). The server is never restarted: it carries on by itself, every signal and answer stored once,
/// nothing refused.
/// </summary>
[Trait("Category", "Drill")]
public sealed class postgresql_disk_full_mid_stream(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int Count = Drill.Count("PRESENCE_DRILL_DISK_SIGNALS", 200);

    /// <summary>An empty cluster with the server's schema takes about 60 MB of it, two WAL segments included.</summary>
    private const int DiskMegabytes = 128;

    private const string Agent = "laptop";

    private readonly CapturedLogs logs = new();
    private string disk = null!;
    private string logFile = null!;
    private bool mounted;
    private EmbeddedPostgresOptions cluster = null!;
    private EmbeddedPostgres? postgres;
    private TestServer? server;

    public async Task InitializeAsync()
    {
        // The data folder straight in the run's folder, where the run's clean-up looks for clusters left running.
        disk = PostgresCluster.NewScratchDirectory("drill-disk");
        logFile = disk + "." + PostgresDataFolder.LogFileName;
        Directory.CreateDirectory(disk);
        await MountSmallDiskAsync();

        cluster = new EmbeddedPostgresOptions { DataDirectory = disk, Port = Ports.Free(), Durable = true };
        postgres = await EmbeddedPostgres.StartAsync(cluster);

        // PostgreSQL's log goes beside the disk, not on it: on a full disk its lines (the PANIC) would be lost.
        await postgres.StopAsync();
        var onDisk = Path.Combine(disk, PostgresDataFolder.LogFileName);
        File.Copy(onDisk, logFile);
        File.Delete(onDisk);
        File.CreateSymbolicLink(onDisk, logFile);
        await PostgresCommandRunner.RunAsync("chown", [PostgresCommandRunner.ServiceUser + ":", logFile]);
        postgres = await EmbeddedPostgres.StartAsync(cluster);

        server = await TestServer.StartAsync(connectionString: postgres.ConnectionString, services: logs.AddTo);
    }

    public async Task DisposeAsync()
    {
        // Each step on its own: a failed one must not leave a cluster running or the tmpfs mounted.
        var failures = new List<Exception>();
        async Task Step(Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (server is not null)
        {
            await Step(async () => await server.DisposeAsync());
        }

        if (postgres is not null)
        {
            await Step(async () => await postgres.DisposeAsync());
        }

        await Step(() => EmbeddedPostgres.StopAbandonedAsync(disk));
        if (mounted)
        {
            await Step(async () =>
            {
                await PostgresCommandRunner.RunAsync("umount", [disk]);
                mounted = false;
            });
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("cleaning up the disk-full drill", failures);
        }
    }

    [Fact]
    public async Task every_signal_and_agent_answer_is_stored_once_and_health_names_the_database_meanwhile()
    {
        var answers = Count / 4;
        using var http = new HttpClient { BaseAddress = server!.HttpAddress };
        await using var watcher = await MqttProbe.ConnectAsync(server.MqttPort, "disk-drill-errors", "presence/errors");
        await using var imac = await MqttProbe.ConnectAsAsync(server.MqttPort, "imac-disk-drill", "imac");
        await using var agent = await MqttProbe.ConnectAsAsync(server.MqttPort, $"{Agent}-disk-drill", Agent);

        // Signals, with an agent's status and inventory every fourth one; in three parts: before, while full, while
        // PostgreSQL is (perhaps) down after its checkpoint.
        var third = Count / 3;
        await SendAsync(imac, agent, 0, third);
        await Eventually.TrueAsync(async () => (await DrillSignals.StoredAsync(server.Store)).Count > 0, "the first signals stored");

        var logStart = new FileInfo(logFile).Length;
        var ballast = Path.Combine(disk, "ballast");
        var filled = FillDisk(ballast);
        var outage = Stopwatch.StartNew();
        output.WriteLine($"disk full: {filled / (1024 * 1024)} MiB of ballast, {new DriveInfo(disk).AvailableFreeSpace} bytes left");

        await SendAsync(imac, agent, third, 2 * third);
        var whileFull = await HealthNamingTheDatabaseAsync(http, "while the disk is full");

        // PostgreSQL's own checkpoint would come within checkpoint_timeout; a checkpoint that cannot write PANICs.
        string checkpoint;
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres!.ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CHECKPOINT", connection);
            await command.ExecuteNonQueryAsync();
            checkpoint = "succeeded";
        }
        catch (NpgsqlException e)
        {
            checkpoint = "failed: " + e.Message;
        }

        // Whatever PostgreSQL does about it (recover, or give up for want of space), it settles.
        await Eventually.TrueAsync(() =>
        {
            var log = LogSince(logStart);
            return Task.FromResult(!log.Contains("PANIC:", StringComparison.Ordinal) || !PostgresDataFolder.IsOurPostmasterRunning(disk)
                                   || log.Contains("database system is ready to accept connections", StringComparison.Ordinal));
        }, "PostgreSQL recovered from its PANIC, or down", TimeSpan.FromSeconds(60));
        var panicked = LogSince(logStart).Contains("PANIC:", StringComparison.Ordinal);
        await SendAsync(imac, agent, 2 * third, Count);
        var afterCheckpoint = await HealthNamingTheDatabaseAsync(http, "after the checkpoint");

        // Long enough for several of the server's holds to fail in a row.
        await Eventually.TrueAsync(() => Task.FromResult(outage.Elapsed > TimeSpan.FromSeconds(5)), "five seconds of a full disk");
        File.Delete(ballast);
        var wentDown = !PostgresDataFolder.IsOurPostmasterRunning(disk);
        if (wentDown)
        {
            await postgres!.DisposeAsync();
            postgres = await EmbeddedPostgres.StartAsync(cluster);
        }

        var outageFor = outage.Elapsed;
        var stored = await DrillSignals.StoredWhileProgressingAsync(server.Store, Count);
        var (statuses, inventories) = await Eventually.GetAsync(async () =>
        {
            var stream = await AgentStreamAsync();
            var s = stream.OfType<AgentStatusReported>().Select(r => r.AgentVersion!).ToList();
            var i = stream.OfType<InventoryReported>().Select(r => r.MemoryFreeMb).ToList();
            return s.Count >= answers && i.Count >= answers ? Tuple.Create(s, i) : null;
        }, $"the {answers} statuses and {answers} inventories of {Agent} stored", TimeSpan.FromSeconds(60));
        var recovered = outage.Elapsed - outageFor;
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode == HttpStatusCode.OK,
            "/health 200 once the disk has room again");

        var log = LogSince(logStart);
        var panics = log.Split('\n').Where(l => l.Contains("PANIC:", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("PANIC:", StringComparison.Ordinal) + 7)..].Trim()).ToList();
        var refusals = log.Split('\n').Count(l => l.Contains("No space left on device", StringComparison.Ordinal));
        var errors = watcher.All.Where(m => m.Topic == "presence/errors").ToList();
        output.WriteLine($"{Count} signals and {2 * answers} agent answers sent ({Count - third} signals while the disk was full or PostgreSQL down, " +
                         $"{outageFor.TotalSeconds:0.0} s in all); all stored {recovered.TotalSeconds:0.0} s after the space was freed");
        output.WriteLine($"signals: {stored.Count} stored, {stored.Distinct().Count()} distinct; answers: {statuses.Count} statuses " +
                         $"({statuses.Distinct().Count()} distinct), {inventories.Count} inventories ({inventories.Distinct().Count()} distinct); " +
                         $"refused: {server.Rejections.Count} ({errors.Count} on presence/errors)");
        output.WriteLine($"/health while full: {whileFull}");
        output.WriteLine($"/health after the checkpoint: {afterCheckpoint}");
        output.WriteLine($"PostgreSQL: {refusals} log lines with ENOSPC; checkpoint {checkpoint}; " +
                         (panicked ? $"PANIC ({string.Join("; ", panics.Distinct())}); " : "no PANIC; ") +
                         (wentDown ? "it was down and was started again once there was room" : "it stayed up"));
        output.WriteLine("PostgreSQL said: " + string.Join(Environment.NewLine + "  ", log.Split('\n').Where(Notable).Select(l => l.Trim())));
        var holds = logs.Lines.Where(l => l.Contains("The database is away", StringComparison.Ordinal)).ToList();
        output.WriteLine($"server: {holds.Count} messages held, for: " + string.Join(Environment.NewLine + "  ", holds.Select(Reason)));

        Assert.Equal(Enumerable.Range(0, Count).Select(DrillSignals.IdOf).Order(), stored.Order());
        Assert.Equal(Enumerable.Range(0, answers).Select(AgentVersion).Order(), statuses.Order());
        Assert.Equal(Enumerable.Range(0, answers).Select(MemoryFree).Order(), inventories.Order());
        Assert.Empty(errors);
        Assert.Equal(0, server.Rejections.Count);
    }

    /// <summary>Signals <paramref name="from"/> up to <paramref name="to"/>, and the agent's answers due among them.</summary>
    private static async Task SendAsync(MqttProbe imac, MqttProbe agent, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            await imac.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(i));
            if (i % 4 == 3 && i / 4 < Count / 4)
            {
                var n = i / 4;
                await agent.PublishAsync($"presence/agents/{Agent}/status",
                    $$"""{"id":"disk-status-{{n}}","state":"online","agent_version":"{{AgentVersion(n)}}","hypervisor":"simulated"}""", retain: true);
                await agent.PublishAsync($"presence/agents/{Agent}/inventory",
                    $$"""{"id":"disk-inventory-{{n}}","cpus":4,"memory_mb":16384,"memory_free_mb":{{MemoryFree(n)}},"on_battery":false,"link_mbps":1000,"vms":[]}""", retain: true);
            }
        }
    }

    private static string AgentVersion(int n) => "drill-" + n.ToString(CultureInfo.InvariantCulture);

    private static int MemoryFree(int n) => 1000 + n;

    private async Task<IReadOnlyList<object>> AgentStreamAsync()
    {
        try
        {
            await using var session = server!.Store.QuerySession();
            return (await session.Events.FetchStreamAsync(HostState.StreamId(Agent))).Select(e => e.Data).ToList();
        }
        catch (NpgsqlException)
        {
            return [];
        }
    }

    /// <summary>Waits for /health to answer 503 naming the database, and returns what it said.</summary>
    private static async Task<string> HealthNamingTheDatabaseAsync(HttpClient http, string when)
    {
        var unready = await Eventually.GetAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return null;
            }

            using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return report.RootElement.GetProperty("unready").EnumerateArray().Select(p => p.GetString()!)
                .FirstOrDefault(p => p.StartsWith("database: ", StringComparison.Ordinal));
        }, $"/health 503 naming the database {when}", TimeSpan.FromSeconds(30));
        return unready;
    }

    private string LogSince(long start) => PostgresDataFolder.ReadLog(logFile, start);

    // The log line as CapturedLogs wrote it, up to its structured values.
    private static string Reason(string line)
    {
        var at = line.IndexOf("The database is away", StringComparison.Ordinal);
        var end = line.IndexOf(" [Reason=", StringComparison.Ordinal);
        return end > at ? line[at..end] : line;
    }

    private static bool Notable(string line) =>
        new[] { "PANIC:", "FATAL:", "terminated by signal", "ready to accept connections", "database system is shut down", "automatic recovery" }
            .Any(n => line.Contains(n, StringComparison.Ordinal));

    /// <summary>Writes <paramref name="path"/> until the disk has not a page left; returns its size.</summary>
    private static long FillDisk(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        var chunk = new byte[1 << 20];
        var size = chunk.Length;
        while (true)
        {
            try
            {
                RandomAccess.Write(handle, chunk.AsSpan(0, size), RandomAccess.GetLength(handle));
            }
            catch (IOException) when (size > 4096)
            {
                size /= 2;
            }
            catch (IOException)
            {
                return RandomAccess.GetLength(handle);
            }
        }
    }

    /// <summary>The small disk, owned by the postgres user as a data folder must be. Root only, here as in CI: no skipping.</summary>
    private async Task MountSmallDiskAsync()
    {
        if (!PostgresCommandRunner.IsRoot())
        {
            throw new InvalidOperationException(
                $"this drill mounts a {DiskMegabytes} MB tmpfs for PostgreSQL to fill and must run as root (as in CI); run it with sudo");
        }

        var uid = (await PostgresCommandRunner.RunAsync("id", ["-u", PostgresCommandRunner.ServiceUser])).Output.Trim();
        var gid = (await PostgresCommandRunner.RunAsync("id", ["-g", PostgresCommandRunner.ServiceUser])).Output.Trim();
        var mount = await PostgresCommandRunner.RunAsync("mount",
            ["-t", "tmpfs", "-o", $"size={DiskMegabytes}m,mode=0700,uid={uid},gid={gid}", "tmpfs", disk], check: false);
        if (!mount.Succeeded)
        {
            throw new InvalidOperationException(
                $"this drill needs to mount a {DiskMegabytes} MB tmpfs at {disk} (root with CAP_SYS_ADMIN; in a container, --privileged): " +
                PostgresCommandRunner.Describe(mount));
        }

        mounted = true;
    }
}
