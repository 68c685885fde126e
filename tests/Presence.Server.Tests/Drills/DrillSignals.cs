using System.Diagnostics;
using System.Globalization;
using Marten;
using Presence.Domain.Signals;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// The numbered idle signals a drill sends for alice, and how it counts them in her stream: every id stored, each
/// exactly once, is what "nothing lost, nothing applied twice" means.
/// </summary>
public static class DrillSignals
{
    public static string IdOf(int i) => "drill-" + i.ToString("D6", CultureInfo.InvariantCulture);

    public const string Topic = "presence/hosts/imac/signals/idle";

    public static string Payload(int i) => $$"""{"id":"{{IdOf(i)}}","user":"alice","idle_seconds":{{i}}}""";

    /// <summary>The drill's signal ids in alice's stream, duplicates included; none while the database is away.</summary>
    public static async Task<List<string>> StoredAsync(IDocumentStore store)
    {
        try
        {
            await using var session = store.QuerySession();
            var events = await session.Events.FetchStreamAsync("alice");
            return events.Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).Where(id => id.StartsWith("drill-", StringComparison.Ordinal)).ToList();
        }
        catch (Npgsql.NpgsqlException)
        {
            return []; // the database is on its way back
        }
    }

    /// <summary>The drill's signal ids in alice's stream in the order stored, duplicates included, read with SQL from a database a server process uses.</summary>
    public static async Task<List<string>> StoredAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "select data::text from presence.mt_events where stream_id = 'alice' order by seq_id", connection);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            using var json = System.Text.Json.JsonDocument.Parse(reader.GetString(0));
            if (json.RootElement.TryGetProperty("Evidence", out var evidence) && evidence.GetProperty("Id").GetString() is { } id && id.StartsWith("drill-", StringComparison.Ordinal))
                ids.Add(id);
        }

        return ids;
    }

    /// <summary>Waits until all <paramref name="count"/> are stored, for as long as the server keeps storing; fails naming the missing ones when it stalls.</summary>
    public static async Task<List<string>> StoredWhileProgressingAsync(IDocumentStore store, int count)
    {
        var stalled = TimeSpan.FromSeconds(30);
        var lastProgress = Stopwatch.StartNew();
        var stored = await StoredAsync(store);
        while (stored.Count < count)
        {
            if (lastProgress.Elapsed > stalled)
            {
                var missing = Enumerable.Range(0, count).Select(IdOf).Except(stored).ToList();
                throw new TimeoutException($"{stored.Count} of {count} signals stored ({stored.Distinct().Count()} distinct), none more for {stalled.TotalSeconds} s; " +
                                           $"missing: {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", …" : "")}");
            }

            await Task.Delay(250);
            var now = await StoredAsync(store);
            if (now.Count > stored.Count)
            {
                lastProgress.Restart();
            }

            stored = now;
        }

        return stored;
    }
}
