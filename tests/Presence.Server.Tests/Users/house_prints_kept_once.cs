using System.Text;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Npgsql;
using Presence.Contracts.Wire;
using Presence.Domain.Users;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Presence.Server.Users;

namespace Presence.Server.Tests.Users;

/// <summary>
/// A saga document keeps the id of its house prints, and the prints are stored once for everyone who saw that house
/// (HousePrints): a 500-seat office's saga was 17.5 KB, 92 % of it prints, rewritten with every signal (issue 11 §6).
/// The decider still sees the same prints: nothing it records changes, after a restart either.
/// </summary>
public sealed class house_prints_kept_once : IAsyncLifetime
{
    private static readonly Topics Topics = new();
    private TestServer server = null!;
    private int ids;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: TestServer.WithoutSignalWarmup);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private Task IdleAsync(TestServer at, string user) => at.IdleAsync(user, $"p-{++ids}");

    private async Task<JsonNode?> StoredPrintsAsync(string user)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(
            $"select data->'HouseSeen'->'Prints' from {server.Store.Options.DatabaseSchemaName}.mt_doc_usersaga where id = @id", connection);
        read.Parameters.AddWithValue("id", user);
        return JsonNode.Parse((string)(await read.ExecuteScalarAsync())!);
    }

    private async Task<int> NewEventsAsync(string user, Func<Task> act)
    {
        await using var before = server.Store.QuerySession();
        var count = (await before.Events.FetchStreamAsync(user)).Count;
        await act();
        await using var after = server.Store.QuerySession();
        var stream = await after.Events.FetchStreamAsync(user);
        Assert.DoesNotContain(stream.Skip(count), e => e.Data is HouseChanged or HouseObserved);
        return stream.Count - count;
    }

    [Fact]
    public async Task two_people_who_saw_the_same_house_keep_one_stored_copy_of_its_prints()
    {
        await IdleAsync(server, "bob");
        await IdleAsync(server, "dave");

        var bobs = (await StoredPrintsAsync("bob"))!.GetValue<string>();
        Assert.Equal(bobs, (await StoredPrintsAsync("dave"))!.GetValue<string>());
        await using var session = server.Store.QuerySession();
        var stored = Assert.Single(await session.Query<HousePrints>().ToListAsync());
        Assert.Equal(bobs, stored.Id);
        // What is stored is what the stream folds to: the prints the decider sees.
        var folded = await session.Events.AggregateStreamAsync<UserSaga>("bob");
        Assert.Equal(folded!.HouseSeen.Prints.OrderBy(p => p.Key), stored.Prints.OrderBy(p => p.Key));
        Assert.NotEmpty(stored.Prints);
    }

    [Fact]
    public async Task a_server_started_again_reads_the_prints_and_records_no_change_of_an_unchanged_house()
    {
        await IdleAsync(server, "bob");
        await server.DisposeAsync();
        server = await TestServer.StartAsync(connectionString: server.ConnectionString, services: TestServer.WithoutSignalWarmup);

        // Unread, the prints would be empty and every host would be recorded as changed; used unread, they throw.
        Assert.Equal(1, await NewEventsAsync("bob", () => IdleAsync(server, "bob")));
        Assert.Equal(System.Text.Json.JsonValueKind.String, JsonValueKind(await StoredPrintsAsync("bob")));
    }

    [Fact]
    public async Task a_saga_stored_with_its_prints_in_it_is_read_as_before_and_then_keeps_their_id()
    {
        await IdleAsync(server, "bob");
        await using (var session = server.Store.QuerySession())
        {
            var prints = Assert.Single(await session.Query<HousePrints>().ToListAsync()).Prints;
            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync();
            await using var inline = new NpgsqlCommand(
                $"update {server.Store.Options.DatabaseSchemaName}.mt_doc_usersaga set data = jsonb_set(data, '{{HouseSeen,Prints}}', @prints::jsonb) where id = 'bob'",
                connection);
            inline.Parameters.AddWithValue("prints", new JsonObject(prints.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))).ToJsonString());
            Assert.Equal(1, await inline.ExecuteNonQueryAsync());
        }

        Assert.Equal(System.Text.Json.JsonValueKind.Object, JsonValueKind(await StoredPrintsAsync("bob")));

        Assert.Equal(1, await NewEventsAsync("bob", () => IdleAsync(server, "bob")));
        Assert.Equal(System.Text.Json.JsonValueKind.String, JsonValueKind(await StoredPrintsAsync("bob")));
    }

    private async Task SqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", server.Store.Options.DatabaseSchemaName), connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task prints_no_saga_refers_to_are_deleted_once_old_and_those_in_use_are_kept()
    {
        await IdleAsync(server, "bob");
        await using (var session = server.Store.LightweightSession())
        {
            session.Store(new HousePrints("unused-old", new Dictionary<string, string> { ["imac"] = "0" }));
            session.Store(new HousePrints("unused-new", new Dictionary<string, string> { ["imac"] = "1" }));
            await session.SaveChangesAsync();
        }

        await SqlAsync("update {schema}.mt_doc_houseprints set mt_last_modified = now() - interval '2 hours' where id <> 'unused-new'");

        Assert.Equal(1, await HousePrintsStore.DeleteUnusedAsync(server.Store, TimeSpan.FromHours(1), CancellationToken.None));

        await using var after = server.Store.QuerySession();
        Assert.Equal([(await StoredPrintsAsync("bob"))!.GetValue<string>(), "unused-new"],
            (await after.Query<HousePrints>().ToListAsync()).Select(p => p.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task a_saga_whose_prints_were_deleted_gets_them_back_from_its_stream()
    {
        await IdleAsync(server, "bob");
        var id = (await StoredPrintsAsync("bob"))!.GetValue<string>();
        await SqlAsync("delete from {schema}.mt_doc_houseprints");
        await server.DisposeAsync();
        server = await TestServer.StartAsync(connectionString: server.ConnectionString, services: TestServer.WithoutSignalWarmup);

        Assert.Equal(1, await NewEventsAsync("bob", () => IdleAsync(server, "bob")));

        await using var session = server.Store.QuerySession();
        Assert.Equal(id, Assert.Single(await session.Query<HousePrints>().ToListAsync()).Id);
        Assert.Equal(id, (await StoredPrintsAsync("bob"))!.GetValue<string>());
    }

    [Fact]
    public async Task prints_whose_transaction_failed_are_inserted_by_the_next_saga_that_refers_to_them()
    {
        // The prints are inserted in the transaction of the saga that refers to them; that one fails after the insert
        // was queued, so they were being written and never were.
        var failing = new FailsOnce();
        await server.DisposeAsync();
        server = await TestServer.StartAsync(connectionString: server.ConnectionString, services: s =>
        {
            s.ConfigureMarten(o => o.Listeners.Add(failing));
            TestServer.WithoutSignalWarmup(s);
        });
        try
        {
            await IdleAsync(server, "bob");
        }
        catch (InvalidOperationException)
        {
            // Refused by FailsOnce (or retried by Wolverine: the next attempt is the next saga referring to them).
        }

        Assert.True(failing.Failed);
        await IdleAsync(server, "bob");

        var id = (await StoredPrintsAsync("bob"))!.GetValue<string>();
        await using var session = server.Store.QuerySession();
        Assert.Equal(id, Assert.Single(await session.Query<HousePrints>().ToListAsync()).Id);
    }

    [Fact]
    public async Task prints_saved_into_a_transaction_that_is_rolled_back_are_not_taken_for_stored()
    {
        // As the start's warm-up rehearses a signal: Marten tells its listeners the save committed all the same.
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var session = server.Store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction));
            HousePrintsStore.WillRollBack(session);
            var bytes = Encoding.UTF8.GetBytes("""{"id":"rehearsed","user":"bob","idle_seconds":5}""");
            var parsed = InboundParser.Parse(Topics, Topics.Signal("basement", "idle"), bytes, SystemClock.Instance.GetCurrentInstant(), Duration.FromMinutes(5));
            await Presence.Server.Signals.SignalHandler.Handle((SignalArrived)Arrived.From(parsed, Topics.Root, bytes), session,
                server.Services.GetRequiredService<Presence.Domain.House.HousePolicy>(), SystemClock.Instance,
                server.Services.GetRequiredService<ServerNode>(), CancellationToken.None);
            await session.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        await IdleAsync(server, "bob");

        var id = (await StoredPrintsAsync("bob"))!.GetValue<string>();
        await using var read = server.Store.QuerySession();
        Assert.Equal(id, Assert.Single(await read.Query<HousePrints>().ToListAsync()).Id);
    }

    /// <summary>Fails the first save that appends events, after the listeners before it ran.</summary>
    private sealed class FailsOnce : Marten.DocumentSessionListenerBase
    {
        private int failed;

        public bool Failed => Volatile.Read(ref failed) == 1;

        public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token) =>
            session.PendingChanges.Streams().Any() && Interlocked.Exchange(ref failed, 1) == 0
                ? throw new InvalidOperationException("the test refuses this save")
                : Task.CompletedTask;
    }

    private static System.Text.Json.JsonValueKind JsonValueKind(JsonNode? node) => node!.GetValueKind();
}
