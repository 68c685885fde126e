using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Dashboard;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Presence.Server.Users;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// Home Assistant's publisher reads the house up to ten times a second under a burst (HouseViews.Kept): each read
/// returns only the documents written since the last, and what it gives is what a whole read gives.
/// </summary>
public sealed class reading_the_house_again : IAsyncLifetime
{
    private TestServer server = null!;
    private int ids;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: TestServer.WithoutSignalWarmup);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private HousePolicy Policy => server.Services.GetRequiredService<HousePolicy>();

    private Task IdleAsync(string user) => server.IdleAsync(user, $"again-{++ids}");

    [Fact]
    public async Task only_the_documents_written_since_are_read_again()
    {
        await IdleAsync("alice");
        await IdleAsync("bob");
        var kept = new KeptRows<UserSaga>();
        string[] users = ["alice", "bob", "dave"];

        await using (var first = server.Store.QuerySession())
        {
            var rows = await RunAsync(first, kept.Query(first, users));
            Assert.Equal(["alice", "bob"], rows!.Select(r => r.Id).Order());
            kept.Take(rows);
        }

        await IdleAsync("bob");
        await using var second = server.Store.QuerySession();
        var again = await RunAsync(second, kept.Query(second, users));
        // bob's saga was written since: it alone comes again, and comes as it is now; alice's is not sent at all.
        Assert.Equal(["bob"], again!.Select(r => r.Id));
        var now = kept.Take(again)!;
        Assert.Equal(["alice", "bob"], now.Keys.Order());
        Assert.Equal((await second.LoadAsync<UserSaga>("bob"))!.LastEvidenceAt, now["bob"].LastEvidenceAt);
        Assert.Empty((await RunAsync(second, kept.Query(second, users)))!);
        Assert.Same(now["alice"], kept.Take(await RunAsync(second, kept.Query(second, users)))!["alice"]);
    }

    [Fact]
    public async Task a_kept_document_gone_is_noticed_and_the_rest_read_again()
    {
        await IdleAsync("alice");
        await IdleAsync("bob");
        var kept = new KeptRows<UserSaga>();
        await using var session = server.Store.LightweightSession();
        kept.Take(await RunAsync(session, kept.Query(session)));
        session.Delete<UserSaga>("alice");
        await session.SaveChangesAsync();

        Assert.Null(kept.Take(await RunAsync(session, kept.Query(session))));
        Assert.Equal(["bob"], kept.Take(await RunAsync(session, kept.Query(session)))!.Keys);
    }

    [Fact]
    public async Task what_is_kept_draws_the_house_a_whole_read_draws()
    {
        var kept = new HouseViews.Kept();
        var json = new JsonSerializerOptions().ConfigureTime();
        foreach (var user in new[] { "alice", "bob", "alice", "dave", "alice" })
        {
            await IdleAsync(user);
            await using var session = server.Store.QuerySession();
            var whole = await HouseViews.ReadAsync(session, Policy, CancellationToken.None);
            var again = await kept.ReadAsync(session, Policy, CancellationToken.None);
            Assert.Equal(whole.Sagas.Keys.Order(), again.Sagas.Keys.Order());
            Assert.Equal(whole.TimelineHeads.OrderBy(h => h.Key), again.TimelineHeads.OrderBy(h => h.Key));
            Assert.Equal(whole.Hosts.Keys.Order(), again.Hosts.Keys.Order());
            Assert.Equal(
                JsonSerializer.Serialize(HouseViews.Build(Policy, whole.Sagas, whole.TimelineHeads, whole.Hosts), json),
                JsonSerializer.Serialize(HouseViews.Build(Policy, again.Sagas, again.TimelineHeads, again.Hosts), json));
        }
    }

    [Fact]
    public async Task the_sagas_this_node_committed_are_taken_from_what_it_keeps_not_read_back()
    {
        var kept = new HouseViews.Kept();
        await IdleAsync("alice");
        await IdleAsync("bob");
        await using var session = server.Store.QuerySession();

        var read = await kept.ReadAsync(session, Policy, CancellationToken.None);

        var sagas = KeptSagas.Of(server.Store);
        foreach (var user in new[] { "alice", "bob" })
        {
            var version = (await session.Events.FetchStreamStateAsync(user))!.Version;
            Assert.Same(sagas.At(user, version), read.Sagas[user]);
        }
    }

    [Fact]
    public async Task a_saga_this_node_does_not_keep_at_the_version_stored_is_read_whole()
    {
        var kept = new HouseViews.Kept();
        await IdleAsync("alice");
        await using (var first = server.Store.QuerySession())
        {
            await kept.ReadAsync(first, Policy, CancellationToken.None);
        }

        // As after another node's commit: what is stored is newer than anything this node keeps.
        await IdleAsync("alice");
        KeptSagas.Of(server.Store).Forget();
        await using var session = server.Store.QuerySession();

        var read = await kept.ReadAsync(session, Policy, CancellationToken.None);

        var stored = (await session.LoadAsync<UserSaga>("alice"))!;
        Assert.Equal(stored.LastEvidenceAt, read.Sagas["alice"].LastEvidenceAt);
        Assert.Equal(stored.NewestEvidence, read.Sagas["alice"].NewestEvidence);
    }

    private static async Task<IReadOnlyList<VersionedRow<T>>?> RunAsync<T>(IQuerySession session, ChangedRows<T> query) where T : class
    {
        var batch = session.CreateBatchQuery();
        var rows = batch.AddItem(query);
        await batch.Execute();
        return await rows;
    }
}
