using Marten;
using NodaTime;
using Presence.Domain.Users;
using Presence.Server.Audit;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// A recorded history imported into an event store becomes the user's stream, audit metadata and all, and exports
/// back to the same lines; importing over a user who already has a history is refused and changes nothing.
/// </summary>
public sealed class importing_and_exporting : IAsyncLifetime
{
    private TestServer server = null!;

    private static readonly string Recorded = Repository.PathOf("eventstore", "histories", "ping-pong-alice.jsonl");

    [Fact]
    public async Task an_imported_history_is_the_users_stream_and_exports_to_the_same_lines()
    {
        var store = await StoreAsync();
        await using (var session = store.LightweightSession())
        {
            var (user, events) = await HistoryTransfer.ImportAsync(session, Recorded, default);
            Assert.Equal(("alice", File.ReadLines(Recorded).Count() - 1), (user, events));
        }

        await using var query = store.QuerySession();
        var stored = await StoredHistory.LoadAsync(query, "alice", default);
        var file = HistoryFile.Read(Recorded);
        Assert.Equal(file.Events.Select(e => (e.Version, e.CorrelationId, e.CausationId, e.Header("node"))),
            stored.Select(e => (e.Version, e.CorrelationId, e.CausationId, e.Header("node"))));

        // The projections followed: the saga is where the history left it.
        var saga = await query.LoadAsync<UserSaga>("alice");
        Assert.Equal(("kids", "kids"), (saga!.VmHost, saga.Seat));

        var out_ = Path.Combine(PostgresCluster.NewScratchDirectory("export"), "alice.jsonl");
        var (path, count) = await HistoryTransfer.ExportAsync(query, "alice", new HouseOptions(), SystemClock.Instance.GetCurrentInstant(), out_, default);
        Assert.Equal(file.Events.Count, count);
        Assert.Equal(File.ReadLines(Recorded).Skip(1), File.ReadLines(path).Skip(1));
    }

    [Fact]
    public async Task importing_over_an_existing_history_is_refused_and_changes_nothing()
    {
        var store = await StoreAsync();
        await using (var session = store.LightweightSession())
        {
            await HistoryTransfer.ImportAsync(session, Recorded, default);
        }

        await using (var again = store.LightweightSession())
        {
            var error = await Assert.ThrowsAsync<StartupException>(() => HistoryTransfer.ImportAsync(again, Recorded, default));
            Assert.Contains("user 'alice' already has a history here", error.Message);
        }

        await using var query = store.QuerySession();
        Assert.Equal(File.ReadLines(Recorded).Count() - 1, (await query.Events.FetchStreamAsync("alice")).Count);
    }

    [Fact]
    public async Task a_broken_file_imports_nothing()
    {
        var store = await StoreAsync();
        var broken = Path.Combine(PostgresCluster.NewScratchDirectory("import"), "broken.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(broken)!);
        await File.WriteAllLinesAsync(broken, File.ReadLines(Recorded).Take(5).Append("{\"version\":5,\"type\":\"no_such_thing\",\"data\":{}}"));

        await using (var session = store.LightweightSession())
        {
            var error = await Assert.ThrowsAsync<HistoryFormatException>(() => HistoryTransfer.ImportAsync(session, broken, default));
            Assert.Contains("broken.jsonl:6: unknown event type 'no_such_thing'", error.Message);
        }

        await using var query = store.QuerySession();
        Assert.Null(await query.Events.FetchStreamStateAsync("alice"));
    }

    [Fact]
    public async Task exporting_a_user_without_a_history_says_so()
    {
        var store = await StoreAsync();
        await using var query = store.QuerySession();

        var error = await Assert.ThrowsAsync<StartupException>(() =>
            HistoryTransfer.ExportAsync(query, "zoe", new HouseOptions(), SystemClock.Instance.GetCurrentInstant(), null, default));
        Assert.Contains("no history for user 'zoe'", error.Message);
    }

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    private Task<IDocumentStore> StoreAsync() => Task.FromResult(server.Store);
}
