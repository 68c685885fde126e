using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using NodaTime.Text;
using Npgsql;
using Presence.Agent;
using Presence.Agent.Configuration;
using Presence.Server.Hosting;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// Issue 11 §7, end to end in one run: a durable PostgreSQL cluster (fsync and synchronous_commit on) measured raw,
/// then the real server process on it with its embedded broker and one simulated agent per computer, driven over MQTT
/// as a house drives it. Every figure is set beside the raw cluster's in the same run and beside its target.
/// </summary>
public static partial class HouseBenchmark
{
    // Issue 11's targets.
    private const double WarmP50Target = 5, WarmP99Target = 20, FirstOverWarmTarget = 50, FirstPixelP95Target = 1000;
    private const double IngestFloor = 5000, RssIdleTarget = 150, ReplayTarget = 1_000_000;

    /// <summary>The warm path's pause between a logout's detach_display at the agent and the next login.</summary>
    private static readonly TimeSpan BetweenLogins = TimeSpan.FromMilliseconds(150);

    public static async Task<HouseReport> RunAsync(HouseBenchOptions options, TextWriter log)
    {
        var own = options.WorkDirectory is null;
        var work = options.WorkDirectory ?? Path.Combine(OperatingSystem.IsWindows() ? Path.GetTempPath() : "/tmp", "presence-house-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        if (!OperatingSystem.IsWindows())
        {
            // As root the cluster runs as postgres, which must get through this folder whatever the umask.
            File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
        }

        var house = new BenchHouse(options.Computers);
        var report = new HouseReport
        {
            Machine = Machine(),
            Date = DateTimeOffset.UtcNow,
            Setup = $"Real server process (`dotnet Presence.Server.dll`, {BuildOf()} build) with its embedded broker; one simulated agent per computer " +
                    $"(in the benchmark's process); a house of {house.Seats} seats and one server running all {house.Seats} thin-client users' VMs; " +
                    "PostgreSQL from the server's EmbeddedPostgres with Durable=true, the same cluster measured raw first." +
                    (options.Office > 0 ? $" The office: {options.Office} seats and users, its own server and database on the same cluster, one agent and publisher per computer." : "") +
                    " The first pixel: a server with the product's default settings whose users are thin-client, prefer local, or have a latency-sensitive VM, in turn.",
        };

        var loadAtStart = LoadAverage();
        EmbeddedPostgres? cluster = null;
        try
        {
            cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = Path.Combine(work, "cluster"), Durable = true });
            await SayAsync(log, "PostgreSQL started (durable)");
            var raw = await cluster.CreateDatabaseAsync("raw");
            report.Setup += $" Cluster: {await RawPostgres.DurabilityAsync(raw)}.";
            var rates = await MeasureRawAsync(raw, options, report, log);

            await MeasureServerAsync(cluster.ConnectionString, Path.Combine(work, "server"), house, options, rates, report, log);
            if (options.Office > 0)
            {
                await MeasureOfficeAsync(await cluster.CreateDatabaseAsync("office"), Path.Combine(work, "office"), new BenchHouse(options.Office), options, rates, report, log);
            }

            await MeasureFirstPixelWithDefaultsAsync(await cluster.CreateDatabaseAsync("defaults"), Path.Combine(work, "defaults"), house, options, report, log);
            await MeasureReplayAsync(await cluster.CreateDatabaseAsync("replay"), Path.Combine(work, "replay"), house, options, report, log);
        }
        finally
        {
            if (cluster is not null)
            {
                await cluster.StopAsync();
            }

            if (own)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await SayAsync(log, $"could not delete {work}: {e.Message}");
                }
            }
        }

        // Every figure here is of a machine shared with whatever else runs: say how busy it was, measured.
        var loadAtEnd = LoadAverage();
        if (loadAtStart is { } before && loadAtEnd is { } after)
        {
            report.Notes.Add($"Load average (1 min) of the machine: {before.ToString("0.0", CultureInfo.InvariantCulture)} when the run started, " +
                             $"{after.ToString("0.0", CultureInfo.InvariantCulture)} when it ended, on {Environment.ProcessorCount} cores" +
                             (Math.Max(before, after) > Environment.ProcessorCount ? ": other work competed for the CPU, so the server's figures are worse than it alone would give." : "."));
        }

        return report;
    }

    private static double? LoadAverage() =>
        File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load)
            ? load
            : null;

    private static async Task<RawRates> MeasureRawAsync(string raw, HouseBenchOptions options, HouseReport report, TextWriter log)
    {
        await SayAsync(log, "raw PostgreSQL: single-row jsonb INSERT commits, 1 and 16 clients; one COPY");
        await RawPostgres.CreateTableAsync(raw);
        var one = await RawPostgres.CommitsPerSecondAsync(raw, 1, options.RawDuration);
        var sixteen = await RawPostgres.CommitsPerSecondAsync(raw, 16, options.RawDuration);
        var copy = await RawPostgres.CopyRowsPerSecondAsync(raw, options.CopyRows);
        report.Add("raw_1", "raw PostgreSQL, single-row jsonb INSERT commits, 1 client", one, "/s");
        report.Add("raw_16", "raw PostgreSQL, single-row jsonb INSERT commits, 16 clients", sixteen, "/s");
        report.Add("raw_copy", $"raw PostgreSQL, COPY of {options.CopyRows:#,0} jsonb rows", copy, "rows/s");
        return new RawRates(one, sixteen);
    }

    /// <summary>The raw cluster's single-row commit rates of this run, what each ingestion rate is set beside.</summary>
    private sealed record RawRates(double One, double Sixteen);

    private static async Task MeasureServerAsync(string connectionString, string directory, BenchHouse house, HouseBenchOptions options,
        RawRates raw, HouseReport report, TextWriter log)
    {
        await BenchClient.WarmUpAsync(options.Stall);
        await SayAsync(log, $"starting the server and {house.Seats + 1} agents");
        await using var server = await BenchServer.StartAsync(connectionString, directory, house.Json(atOnce: true), options.Stall);
        var agents = new List<PresenceAgent>();
        var publishers = new Dictionary<string, BenchClient>();
        try
        {
            await SayAsync(log, "server healthy");
            agents.AddRange(await StartAgentsAsync(server, house));
            await WaitForAgentsAsync(server, house.Seats + 1, options.Stall);
            await SayAsync(log, "agents known to the server");
            var (started, _) = server.Memory();
            report.Add("rss_start", "server RSS right after start (agents announced)", started, "MB");
            await SayAsync(log, $"leaving the server idle for {options.Idle.TotalSeconds:0} s");
            await Task.Delay(options.Idle);
            var (idle, _) = server.Memory();
            report.Add("rss_idle", $"server RSS, idle ({options.Idle.TotalSeconds:0} s after the agents announced)", idle, "MB",
                $"≤ {RssIdleTarget} MB", idle <= RssIdleTarget);

            foreach (var seat in house.SeatNames)
            {
                publishers[seat] = await BenchClient.ConnectAsync(server.MqttPort, "bench-" + seat, seat);
            }

            await using var watcher = await BenchClient.ConnectAsync(server.MqttPort, "bench-watcher", "presence-cli", "presence/agents/+/commands");
            await MeasureLatencyAsync(connectionString, house, publishers, watcher, options, report, log);
            if (options.Together > 0)
            {
                await MeasureTogetherAsync(house, publishers, watcher, options, report, log);
            }

            await MeasureIngestionAsync(connectionString, house, publishers, options.Signals, options, raw, report, log, () => server.Output, "ingest", "ingestion");

            // The first burst after a start pays for the JIT's tier-up of the path (about 3,000 methods recompiled
            // optimised during 20,000 signals, DOTNET_JitDisasmSummary): the same burst again shows what a server
            // that has handled one takes.
            await MeasureIngestionAsync(connectionString, house, publishers, options.Signals, options, raw, report, log, () => server.Output,
                "ingest_again", "ingestion again", again: true);

            var (after, peak) = server.Memory();
            report.Add("rss_after", "server RSS after the load", after, "MB");
            report.Add("rss_peak", "server RSS, peak (VmHWM)", peak, "MB");
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{e.Message}\n{await DiagnosisAsync(connectionString, house.UserNames[0])}\nthe server's output:\n{Tail(server.Output, 60)}", e);
        }
        finally
        {
            await DisposeAllAsync([.. publishers.Values, .. agents]);
        }
    }

    /// <summary>
    /// A login at a seat, then a logout there, alternating over the seats: each login must show the user's desktop at
    /// the new seat, so each one ends in an attach_display on that seat's command topic. Timed from the publish to
    /// the command's arrival at a subscriber of the agents' command topics; the first login after start apart.
    /// </summary>
    private static async Task MeasureLatencyAsync(string connectionString, BenchHouse house, Dictionary<string, BenchClient> publishers,
        BenchClient watcher, HouseBenchOptions options, HouseReport report, TextWriter log)
    {
        await SayAsync(log, $"warm path: {options.Logins} logins, each followed by a logout");
        var user = house.UserNames[0];
        var vm = BenchHouse.VmOf(user);
        var samples = new List<(string Id, double Ms, DateTime Published, DateTime Arrived, DateTime? Signed)>();
        await using var db = NpgsqlDataSource.Create(connectionString);
        for (var i = 0; i < options.Logins; i++)
        {
            var seat = house.SeatNames[i % house.Seats];
            var id = "lat-login-" + i.ToString("D5", CultureInfo.InvariantCulture);
            var mark = watcher.Count;
            var published = DateTime.UtcNow;
            var start = Stopwatch.GetTimestamp();
            await publishers[seat].PublishAsync($"presence/hosts/{seat}/signals/session", $$"""{"id":"{{id}}","user":"{{user}}","state":"login","seat":"console"}""");
            var attach = await watcher.WaitForAsync(mark,
                a => a.Topic == $"presence/agents/{seat}/commands" && IsCommand(a, "attach_display", vm), options.Stall,
                $"attach_display of {vm} at {seat} after {id}");
            samples.Add((id, Stopwatch.GetElapsedTime(start, attach.Timestamp).TotalMilliseconds, published, attach.Utc, attach.Signed));

            // The logout is not timed. The next login comes a moment after its detach_display reached the agent, as a
            // person walks from one seat to the next: after the agent's answers are stored and Home Assistant's states
            // recomputed (50 ms after a change). Sent as soon as the logout was stored, a login was timed against the
            // logout's command, answers and reads still under way: p50 16.5–16.8 ms against 11.2–13.1 (docs/benchmarks.md).
            var logout = "lat-logout-" + i.ToString("D5", CultureInfo.InvariantCulture);
            mark = watcher.Count;
            await publishers[seat].PublishAsync($"presence/hosts/{seat}/signals/session", $$"""{"id":"{{logout}}","user":"{{user}}","state":"logout","seat":"console"}""");
            await watcher.WaitForAsync(mark, a => a.Topic == $"presence/agents/{seat}/commands" && IsCommand(a, "detach_display", vm), options.Stall,
                $"detach_display of {vm} at {seat} after {logout}");
            await Task.Delay(BetweenLogins);
        }

        var first = samples[0].Ms;
        var warmup = Math.Min(10, (samples.Count - 1) / 3);
        var warm = samples.Skip(1 + warmup).Select(s => s.Ms).Order().ToList();
        var p50 = Percentile(warm, 50);
        report.Add("warm_p50", $"warm login → attach_display at the agent, p50 ({warm.Count} logins)", p50, "ms", $"≤ {WarmP50Target} ms", p50 <= WarmP50Target);
        report.Add("warm_p95", "warm login → attach_display at the agent, p95", Percentile(warm, 95), "ms");
        var p99 = Percentile(warm, 99);
        report.Add("warm_p99", "warm login → attach_display at the agent, p99", p99, "ms", $"≤ {WarmP99Target} ms", p99 <= WarmP99Target);
        report.Add("first", "first login after start → attach_display", first, "ms", $"≤ warm p50 + {FirstOverWarmTarget} ms", first <= p50 + FirstOverWarmTarget);

        // Where the time goes, by the wall clock of this one computer: the decider's `now` (SignalRecorded.ReceivedAt),
        // the attach's row in mt_events (its timestamp column), the command's arrival at the subscriber.
        var stages = await StagesAsync(db, samples.Skip(1 + warmup).ToList());
        report.Add("stage_in", "  stage: publish → the decider takes it up (broker, bridge, queue), median", stages.In, "ms");
        report.Add("stage_store", "  stage: decider → attach event's mt_events.timestamp, median", stages.Store, "ms");
        report.Add("stage_out", "  stage: mt_events.timestamp → command at the agent (commit, outbound, broker), median", stages.Out, "ms");
        report.Add("stage_signed", "    of it: mt_events.timestamp → the command signed (the batch, commit, outbox, outbound queue), median", stages.Signed, "ms");
        report.Add("stage_wire", "    of it: signed → at the agent (the outbound client, the broker, the agent's connection), median", stages.Wire, "ms");

        // The same stages of the first login, to tell which part of the path its first use slows.
        var firstStages = await StagesAsync(db, samples.Take(1).ToList());
        report.Add("first_in", "  first login's stage: publish → the decider takes it up", firstStages.In, "ms");
        report.Add("first_store", "  first login's stage: decider → attach event's mt_events.timestamp", firstStages.Store, "ms");
        report.Add("first_out", "  first login's stage: mt_events.timestamp → command at the agent", firstStages.Out, "ms");
    }

    private static async Task<(double In, double Store, double Out, double Signed, double Wire)> StagesAsync(
        NpgsqlDataSource db, List<(string Id, double Ms, DateTime Published, DateTime Arrived, DateTime? Signed)> samples)
    {
        var ids = samples.Select(s => s.Id).ToArray();
        var received = new Dictionary<string, DateTime>();
        var stored = new Dictionary<string, DateTime>();
        await using var command = db.CreateCommand(
            "select correlation_id, type, timestamp, data->>'ReceivedAt' from presence.mt_events " +
            "where correlation_id = any($1) and type in ('signal_recorded', 'display_attach_requested')");
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var id = reader.GetString(0);
                if (reader.GetString(1) == "signal_recorded" && !reader.IsDBNull(3))
                {
                    received[id] = InstantPattern.ExtendedIso.Parse(reader.GetString(3)).Value.ToDateTimeUtc();
                }
                else if (reader.GetString(1) == "display_attach_requested" && !stored.ContainsKey(id))
                {
                    stored[id] = DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc);
                }
            }
        }

        var complete = samples.Where(s => received.ContainsKey(s.Id) && stored.ContainsKey(s.Id)).ToList();
        if (complete.Count == 0)
        {
            throw new InvalidOperationException("no login has both its SignalRecorded.ReceivedAt and its DisplayAttachRequested row: the stages cannot be told apart");
        }

        return (
            Median(complete.Select(s => (received[s.Id] - s.Published).TotalMilliseconds)),
            Median(complete.Select(s => (stored[s.Id] - received[s.Id]).TotalMilliseconds)),
            Median(complete.Select(s => (s.Arrived - stored[s.Id]).TotalMilliseconds)),
            Median(complete.Select(s => ((s.Signed ?? s.Arrived) - stored[s.Id]).TotalMilliseconds)),
            Median(complete.Select(s => (s.Arrived - (s.Signed ?? s.Arrived)).TotalMilliseconds)));
    }

    private static async Task DisposeAllAsync(IEnumerable<IAsyncDisposable> parts)
    {
        foreach (var part in parts)
        {
            await part.DisposeAsync();
        }
    }

    private static async Task MeasureReplayAsync(string connectionString, string directory, BenchHouse house, HouseBenchOptions options,
        HouseReport report, TextWriter log)
    {
        await SayAsync(log, $"replay: a house of {options.ReplayPeople} over {options.ReplayDays} days, in memory, in a process of its own");
        var inMemory = await ReplayYear.MeasureInAProcessOfItsOwnAsync(options.ReplayPeople, options.ReplayDays);
        report.Add("replay_fold", $"replay in memory: folding {inMemory.Events:#,0} events of {options.ReplayPeople} people over {options.ReplayDays} days (Evolve); {inMemory.Fold.Spread}",
            inMemory.Fold.Median, "events/s", $"≥ {ReplayTarget:#,0}/s", inMemory.Fold.Median >= ReplayTarget);
        report.Add("replay_decide", $"replay in memory: deciding the same again (the domain Replayer, what `presence replay` runs, in a process as it runs it); {inMemory.Decide.Spread}",
            inMemory.Decide.Median, "events/s", $"≥ {ReplayTarget:#,0}/s", inMemory.Decide.Median >= ReplayTarget);

        var year = YearOfAHouse.Generate(options.ReplayPeople, options.ReplayDays);
        await SayAsync(log, "replay: the same year stored in PostgreSQL, read back");
        var (marten, raw) = await ReplayFromPostgres.MeasureAsync(connectionString, directory, house.Json(atOnce: true), year);
        report.Add("replay_pg", "replay from PostgreSQL: Marten reads each person's year-long stream, the saga folded", marten, "events/s");
        report.Add("replay_raw", "raw read of the same rows (jsonb as text, no deserialising)", raw, "events/s");
        report.Add("replay_pg_ratio", "replay from PostgreSQL ÷ raw read", marten / raw, "×");
    }

    /// <summary>What the first user's stream holds last, for a failure message.</summary>
    private static async Task<string> DiagnosisAsync(string connectionString, string user)
    {
        try
        {
            await using var db = NpgsqlDataSource.Create(connectionString);
            await using var command = db.CreateCommand("select type, data::text from presence.mt_events where stream_id = $1 order by seq_id desc limit 12");
            command.Parameters.Add(new NpgsqlParameter { Value = user });
            var lines = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add($"  {reader.GetString(0)} {reader.GetString(1)}");
            }

            lines.Reverse();
            return $"{user}'s last events:\n{string.Join('\n', lines)}";
        }
        catch (NpgsqlException e)
        {
            return $"(could not read {user}'s events: {e.Message})";
        }
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    // The time of day on each line: where a run spends its time, without a profiler.
    private static Task SayAsync(TextWriter log, string text) =>
        log.WriteLineAsync($"{DateTime.UtcNow:HH:mm:ss.f} {text}");

    private static bool IsCommand(Arrival arrival, string type, string vm)
    {
        using var json = JsonDocument.Parse(arrival.Payload);
        return json.RootElement.TryGetProperty("type", out var t) && t.GetString() == type
            && json.RootElement.TryGetProperty("vm", out var v) && v.GetString() == vm;
    }

    private static async Task<List<PresenceAgent>> StartAgentsAsync(BenchServer server, BenchHouse house)
    {
        var agents = new List<PresenceAgent>();
        var vms = house.UserNames.Select((u, i) => new VmOptions
        {
            Name = BenchHouse.VmOf(u), MemoryMb = BenchHouse.VmMemoryMb, DisplayUri = $"spice://{BenchHouse.Server}:{5900 + i + 1}",
        }).ToList();
        foreach (var host in house.SeatNames.Prepend(BenchHouse.Server))
        {
            var options = new AgentOptions
            {
                Host = host,
                Mqtt = { Host = "127.0.0.1", Port = server.MqttPort, ReconnectDelay = TimeSpan.FromMilliseconds(200) },
                Resources = { Cpus = 64, MemoryMb = 1024 * 1024, LinkMbps = host == BenchHouse.Server ? 10000 : 1000 },
                StateDirectory = Path.Combine(server.Directory, "agent-" + host),
                Trust = { ServerKeyFile = BenchServer.ServerKeyFile(server.Directory) },
                // Simulated agents answer at once: the figures are the server's.
                Simulated = { SpeedFactor = 1000, ProgressInterval = TimeSpan.FromMilliseconds(50) },
            };
            if (host == BenchHouse.Server)
            {
                options.Vms.AddRange(vms);
            }

            var agent = new PresenceAgent(options);
            await agent.StartAsync(CancellationToken.None);
            agents.Add(agent);
        }

        return agents;
    }

    private static async Task WaitForAgentsAsync(BenchServer server, int count, TimeSpan stall)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var house = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/house", UriKind.Relative)));
            var online = house.RootElement.GetProperty("hosts").EnumerateArray().Count(h => h.GetProperty("agent_online").GetBoolean());
            if (online == count)
            {
                return;
            }

            if (clock.Elapsed > stall)
            {
                throw new TimeoutException($"{online} of {count} agents known to the server after {stall.TotalSeconds:0} s:\n{server.Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    private static double Median(IEnumerable<double> values) => Percentile(values.Order().ToList(), 50);

    private static string Machine()
    {
        var model = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? model;
        }

        return $"{Environment.ProcessorCount} cores, {model}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}";
    }

    private static string BuildOf() =>
        typeof(PresenceApp).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().Any(d => d.IsJITOptimizerDisabled)
            ? "Debug" : "Release";
}
