using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Presence.Agent;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>The ingestion figures: the house's 20,000 signals and the 500-seat office's, each stored and counted.</summary>
public static partial class HouseBenchmark
{
    /// <summary>
    /// The ingestion alone for an office of <see cref="HouseBenchOptions.Office"/> seats (issue 11: "and for a
    /// 500-seat office"): its own server on its own database of the same cluster, one agent and one publisher per
    /// computer, the same idle-signal mix as the house's; its rows go beside the house's ingestion rows.
    /// </summary>
    private static async Task MeasureOfficeAsync(string connectionString, string directory, BenchHouse office, HouseBenchOptions options,
        RawRates raw, HouseReport report, TextWriter log)
    {
        await SayAsync(log, $"the office: starting a server and {office.Seats + 1} agents");
        // Measured: reading a house file of 257,000 keys once took 68-187 s of every start (Configuration/IndexedJsonSource).
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

            // In the first burst each person meets the office for the first time: their stream records all of its
            // computers' facts once (a 143 KB HouseChanged per person for 500 seats, 71 MB in all against the signals'
            // 6 MB). The same burst again shows what the office takes once they have.
            await MeasureIngestionAsync(connectionString, office, publishers, options.OfficeSignals ?? options.Signals, options, raw, rows, log, () => server.Output,
                "office_again", $"{office.Seats}-seat office again", again: true);
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
        var at = report.Figures.FindLastIndex(f => f.Key is "ingest_drops" or "ingest_again_drops") + 1;
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
    /// that is never stored is a failure of the run, not only a row. <paramref name="again"/>: the same burst once
    /// more on the server that has just handled one, its figures beside the first's with no target of their own.
    /// </summary>
    private static async Task MeasureIngestionAsync(string connectionString, BenchHouse house, Dictionary<string, BenchClient> publishers,
        int signals, HouseBenchOptions options, RawRates raw, HouseReport report, TextWriter log, Func<string> serverOutput, string key, string label,
        bool again = false)
    {
        var prefix = again ? "ag2-" : "ing-";
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
                    $$"""{"id":"{{IngestId(prefix, i)}}","user":"{{user}}","idle_seconds":{{i % 300}}}""");
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
            var (now, unique) = await IngestedAsync(db, prefix);
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
        // The targets are judged on the first burst alone.
        report.Add($"{key}_rate", $"{label}: {of}, stored", rate, "signals/s", again ? "" : $"≥ {IngestFloor:#,0}/s", again ? null : rate >= IngestFloor);
        report.Add($"{key}_ratio", $"{label}: rate ÷ raw 16-client commit rate ({raw.Sixteen:#,0}/s)", ratio, "×", again ? "" : "≥ 1×", again ? null : ratio >= 1);
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

    private static string IngestId(string prefix, int i) => prefix + i.ToString("D6", CultureInfo.InvariantCulture);

    private static async Task<(long Stored, long Distinct)> IngestedAsync(NpgsqlDataSource db, string prefix)
    {
        await using var command = db.CreateCommand(
            "select count(*), count(distinct data->'Evidence'->>'Id') from presence.mt_events " +
            "where type = 'signal_recorded' and data->'Evidence'->>'Id' like $1");
        command.Parameters.Add(new NpgsqlParameter { Value = prefix + "%" });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
