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
public static class HouseBenchmark
{
    // Issue 11's targets.
    private const double WarmP50Target = 5, WarmP99Target = 20, FirstOverWarmTarget = 50, FirstPixelP95Target = 1000;
    private const double IngestFloor = 5000, RssIdleTarget = 150, ReplayTarget = 1_000_000;

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
            var (idle, _) = server.Memory();
            report.Add("rss_idle", "server RSS, idle after start (agents announced)", idle, "MB", $"≤ {RssIdleTarget} MB", idle <= RssIdleTarget);

            foreach (var seat in house.SeatNames)
            {
                publishers[seat] = await BenchClient.ConnectAsync(server.MqttPort, "bench-" + seat, seat);
            }

            await using var watcher = await BenchClient.ConnectAsync(server.MqttPort, "bench-watcher", "presence-cli", "presence/agents/+/commands");
            await MeasureLatencyAsync(connectionString, house, publishers, watcher, options, report, log);
            await MeasureIngestionAsync(connectionString, house, publishers, options.Signals, options, raw, report, log, () => server.Output, "ingest", "ingestion");

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
        var samples = new List<(string Id, double Ms, DateTime Published, DateTime Arrived)>();
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
            samples.Add((id, Stopwatch.GetElapsedTime(start, attach.Timestamp).TotalMilliseconds, published, attach.Utc));

            // The logout is not timed: whether it sends a command is being changed (issue 11 §3); the next login waits
            // until the server has taken it, so the logins stay apart.
            var logout = "lat-logout-" + i.ToString("D5", CultureInfo.InvariantCulture);
            await publishers[seat].PublishAsync($"presence/hosts/{seat}/signals/session", $$"""{"id":"{{logout}}","user":"{{user}}","state":"logout","seat":"console"}""");
            await UntilStoredAsync(db, logout, options.Stall);
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

        // The same stages of the first login, to tell which part of the path its first use slows.
        var firstStages = await StagesAsync(db, samples.Take(1).ToList());
        report.Add("first_in", "  first login's stage: publish → the decider takes it up", firstStages.In, "ms");
        report.Add("first_store", "  first login's stage: decider → attach event's mt_events.timestamp", firstStages.Store, "ms");
        report.Add("first_out", "  first login's stage: mt_events.timestamp → command at the agent", firstStages.Out, "ms");
    }

    private static async Task<(double In, double Store, double Out)> StagesAsync(NpgsqlDataSource db, List<(string Id, double Ms, DateTime Published, DateTime Arrived)> samples)
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
            Median(complete.Select(s => (s.Arrived - stored[s.Id]).TotalMilliseconds)));
    }

    /// <summary>
    /// The ingestion alone for an office of <see cref="HouseBenchOptions.Office"/> seats (issue 11: "and for a
    /// 500-seat office"): its own server on its own database of the same cluster, one agent and one publisher per
    /// computer, the same idle-signal mix as the house's; its rows go beside the house's ingestion rows.
    /// </summary>
    private static async Task MeasureOfficeAsync(string connectionString, string directory, BenchHouse office, HouseBenchOptions options,
        RawRates raw, HouseReport report, TextWriter log)
    {
        await SayAsync(log, $"the office: starting a server and {office.Seats + 1} agents");
        // A first start enrols every user with a view of the whole office: far slower than the house's, and measured.
        var starting = Stopwatch.StartNew();
        await using var server = await BenchServer.StartAsync(connectionString, directory, office.Json(atOnce: true), options.Stall * 10);
        var started = starting.Elapsed;
        await SayAsync(log, $"the office's server healthy after {started.TotalSeconds:0.0} s");
        var agents = new List<PresenceAgent>();
        var publishers = new Dictionary<string, BenchClient>();
        var rows = new HouseReport { Machine = report.Machine, Date = report.Date, Setup = "" };
        try
        {
            agents.AddRange(await StartAgentsAsync(server, office));
            await WaitForAgentsAsync(server, office.Seats + 1, options.Stall * 10);
            await SayAsync(log, $"the office's agents known to the server after {starting.Elapsed.TotalSeconds:0.0} s");
            rows.Add("office_start", $"{office.Seats}-seat office: first start of its server to /health", started.TotalSeconds, "s");
            rows.Add("office_agents", $"{office.Seats}-seat office: from the start until all {office.Seats + 1} agents are known to the server", starting.Elapsed.TotalSeconds, "s");
            foreach (var seat in office.SeatNames)
            {
                publishers[seat] = await BenchClient.ConnectAsync(server.MqttPort, "bench-" + seat, seat);
            }

            await MeasureIngestionAsync(connectionString, office, publishers, options.OfficeSignals ?? options.Signals, options, raw, rows, log, () => server.Output,
                "office", $"{office.Seats}-seat office");
            var (after, _) = server.Memory();
            rows.Add("office_rss", $"{office.Seats}-seat office: server RSS after its ingestion", after, "MB");
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"the office: {e.Message}\nthe server's output:\n{Tail(server.Output, 60)}", e);
        }
        finally
        {
            await DisposeAllAsync([.. publishers.Values, .. agents]);
        }

        // Beside the house's ingestion, not after the rest of its figures.
        var at = report.Figures.FindIndex(f => f.Key == "ingest_drops") + 1;
        report.Figures.InsertRange(at > 0 ? at : report.Figures.Count, rows.Figures);
        var house = report.Figures.SingleOrDefault(f => f.Key == "ingest_rate");
        if (house is not null)
        {
            report.Figures.Insert(at > 0 ? at + rows.Figures.Count : report.Figures.Count,
                new HouseFigure("office_vs_house", $"{office.Seats}-seat office's ingestion rate ÷ the house's", report["office_rate"].Value / house.Value, "×"));
        }

        report.Notes.AddRange(rows.Notes);
        report.Failures.AddRange(rows.Failures);
    }

    /// <summary>
    /// Idle signals (nothing to decide, only to store) for many users from every computer at once, as fast as the
    /// broker takes them; timed from the first publish until every one is in the event store, each once. A signal
    /// that is never stored is a failure of the run, not only a row.
    /// </summary>
    private static async Task MeasureIngestionAsync(string connectionString, BenchHouse house, Dictionary<string, BenchClient> publishers,
        int signals, HouseBenchOptions options, RawRates raw, HouseReport report, TextWriter log, Func<string> serverOutput, string key, string label)
    {
        await SayAsync(log, $"{label}: {signals} idle signals from {house.Seats} computers");
        await using var db = NpgsqlDataSource.Create(connectionString);
        var dropsBefore = ConnectionDrops(serverOutput());
        var clock = Stopwatch.StartNew();
        var senders = house.SeatNames.Select((seat, c) => Task.Run(async () =>
        {
            for (var i = c; i < signals; i += house.Seats)
            {
                var user = house.UserNames[(i / house.Seats + i) % house.UserNames.Count];
                await publishers[seat].PublishAsync($"presence/hosts/{seat}/signals/idle",
                    $$"""{"id":"{{IngestId(i)}}","user":"{{user}}","idle_seconds":{{i % 300}}}""");
            }
        })).ToList();
        await Task.WhenAll(senders);
        var accepted = clock.Elapsed;

        var (stored, distinct) = (0L, 0L);
        // The rate runs to when the last signal was stored, not to when the waiting for missing ones gave up.
        var lastStored = clock.Elapsed;
        var progress = Stopwatch.StartNew();
        while (stored < signals)
        {
            var (now, unique) = await IngestedAsync(db);
            if (now > stored)
            {
                progress.Restart();
                lastStored = clock.Elapsed;
            }

            (stored, distinct) = (now, unique);
            if (stored >= signals || progress.Elapsed > options.Stall)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        var elapsed = lastStored;
        var lost = signals - distinct;
        await SayAsync(log, $"{label}: sent {signals}, stored {distinct} in {elapsed.TotalSeconds:0.0} s, lost = sent − stored = {lost}");
        if (lost > 0)
        {
            // The console logger writes "warn: Category[0]" and the message on the next line.
            var lines = serverOutput().Split('\n');
            var said = lines.Select((l, i) => (l, i))
                .Where(x => x.l.StartsWith("fail:", StringComparison.Ordinal) || x.l.StartsWith("warn:", StringComparison.Ordinal) || x.l.StartsWith("crit:", StringComparison.Ordinal))
                .Select(x => x.l.Trim() + " " + (x.i + 1 < lines.Length ? lines[x.i + 1].Trim() : ""))
                .ToList();
            var why = $"{label}: LOST {lost} of {signals} signals (sent {signals:#,0} − stored {distinct:#,0}), never stored after {options.Stall.TotalSeconds:0} s without progress; " +
                      $"the server logged {said.Count} warnings or failures" + (said.Count == 0 ? "." : ", the last: " + string.Join(" / ", said.TakeLast(5)));
            await SayAsync(log, why);
            report.Notes.Add(why);
            report.Failures.Add(why);
        }

        var rate = distinct / elapsed.TotalSeconds;
        var ratio = rate / raw.Sixteen;
        var of = $"{signals:#,0} idle signals from {house.Seats} computers";
        report.Add($"{key}_broker", $"{label}: the broker took all {signals:#,0} in", accepted.TotalMilliseconds, "ms");
        report.Add($"{key}_rate", $"{label}: {of}, stored", rate, "signals/s", $"≥ {IngestFloor:#,0}/s", rate >= IngestFloor);
        report.Add($"{key}_ratio", $"{label}: rate ÷ raw 16-client commit rate ({raw.Sixteen:#,0}/s)", ratio, "×", "≥ 1×", ratio >= 1);
        report.Add($"{key}_ratio_1", $"{label}: rate ÷ raw 1-client commit rate ({raw.One:#,0}/s)", rate / raw.One, "×");
        report.Add($"{key}_lost", $"{label}: lost = sent − stored ({signals:#,0} − {distinct:#,0})", lost, "", "0", lost == 0);
        report.Add($"{key}_twice", $"{label}: signals stored more than once", stored - distinct, "", "0", stored == distinct);
        // A dropped connection of the server makes the broker re-queue its whole backlog at once (what lost 263
        // signals once, docs/benchmarks.md): how often it happened under this load.
        report.Add($"{key}_drops", $"{label}: the server's own MQTT connections dropped meanwhile", ConnectionDrops(serverOutput()) - dropsBefore, "");
    }

    /// <summary>How often the server logged that one of its own MQTT connections to the broker dropped (MqttConnection's warning).</summary>
    private static int ConnectionDrops(string output) =>
        output.Split('\n').Count(l => l.Contains("MQTT server in lost", StringComparison.Ordinal) || l.Contains("MQTT server out lost", StringComparison.Ordinal));

    private static string IngestId(int i) => "ing-" + i.ToString("D6", CultureInfo.InvariantCulture);

    private static async Task<(long Stored, long Distinct)> IngestedAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand(
            "select count(*), count(distinct data->'Evidence'->>'Id') from presence.mt_events " +
            "where type = 'signal_recorded' and data->'Evidence'->>'Id' like 'ing-%'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

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

    private static async Task UntilStoredAsync(NpgsqlDataSource db, string evidenceId, TimeSpan stall)
    {
        var clock = Stopwatch.StartNew();
        await using var command = db.CreateCommand("select exists (select 1 from presence.mt_events where correlation_id = $1 and type = 'signal_recorded')");
        command.Parameters.Add(new NpgsqlParameter { Value = evidenceId });
        while (!(bool)(await command.ExecuteScalarAsync())!)
        {
            if (clock.Elapsed > stall)
            {
                throw new TimeoutException($"{evidenceId} was not stored within {stall.TotalSeconds:0} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(2));
        }
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
