using System.Diagnostics;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Domain.Users;
using Presence.Server.Hosting;

namespace Presence.Benchmarks.EndToEnd;

/// <summary>
/// The year of <see cref="YearOfAHouse"/> stored as the server stores it (Marten's event store, the server's own
/// store configuration, one stream per person), then read back two ways: what the server does (Marten fetches and
/// deserialises the stream, the saga is folded) and a raw read of the same rows (their JSON text, nothing more).
/// </summary>
public static class ReplayFromPostgres
{
    private const int EventsPerCommit = 5000;

    public static async Task<(double Marten, double Raw)> MeasureAsync(string connectionString, string directory, string houseJson, YearOfAHouse year)
    {
        Directory.CreateDirectory(directory);
        var house = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(house, houseJson);
        // The server's services, built and not started: its document store is what the server reads streams with.
        var builder = PresenceApp.CreateBuilder(["--config", house, "--Logging:LogLevel:Default=Warning", $"--Signing:PublicKeyFile={Path.Combine(directory, "key.pub")}"]);
        PresenceApp.ConfigureServices(builder, connectionString);
        await using var app = builder.Build();
        var store = app.Services.GetRequiredService<IDocumentStore>();
        // Not started, so the schema the server applies at start (and never lazily after) is applied here.
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();

        var streams = new List<(string Id, string User)>();
        for (var p = 0; p < year.People.Count; p++)
        {
            var (day, _, user) = year.People[p];
            var id = $"{user}-{p:D2}";
            streams.Add((id, user));
            var pending = 0;
            var session = store.LightweightSession();
            try
            {
                for (var d = 0; d < year.DaysLived; d++)
                {
                    session.Events.Append(id, day.Select(e => (object)e.Data).ToArray());
                    pending += day.Count;
                    if (pending >= EventsPerCommit)
                    {
                        await session.SaveChangesAsync();
                        await session.DisposeAsync();
                        session = store.LightweightSession();
                        pending = 0;
                    }
                }

                await session.SaveChangesAsync();
            }
            finally
            {
                await session.DisposeAsync();
            }
        }

        await using var db = NpgsqlDataSource.Create(connectionString);
        // Each way once untimed (the JIT, Marten's first use of the event mapping, the connection pools), then timed.
        await ReadWithMartenAsync(store, streams.Take(1));
        await ReadRawAsync(db, streams.Take(1));
        var clock = Stopwatch.StartNew();
        var read = await ReadWithMartenAsync(store, streams);
        var marten = read / clock.Elapsed.TotalSeconds;
        if (read != year.Events)
        {
            throw new InvalidOperationException($"stored {year.Events} events of the year, read back {read}");
        }

        clock.Restart();
        var rows = await ReadRawAsync(db, streams);
        var raw = rows / clock.Elapsed.TotalSeconds;
        return rows == year.Events ? (marten, raw) : throw new InvalidOperationException($"raw read {rows} rows of {year.Events}");
    }

    private static async Task<long> ReadWithMartenAsync(IDocumentStore store, IEnumerable<(string Id, string User)> streams)
    {
        var read = 0L;
        foreach (var (id, user) in streams)
        {
            await using var session = store.QuerySession();
            var events = await session.Events.FetchStreamAsync(id);
            var saga = UserSaga.Start(user, null);
            foreach (var e in events)
            {
                saga = UserDecider.Evolve(saga, e.Data);
            }

            read += saga.Id.Length > 0 ? events.Count : 0;
        }

        return read;
    }

    private static async Task<long> ReadRawAsync(NpgsqlDataSource db, IEnumerable<(string Id, string User)> streams)
    {
        var rows = 0L;
        foreach (var (id, _) in streams)
        {
            await using var command = db.CreateCommand("select data::text from presence.mt_events where stream_id = $1 order by version");
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows += reader.GetString(0).Length > 0 ? 1 : 0;
            }
        }

        return rows;
    }
}
