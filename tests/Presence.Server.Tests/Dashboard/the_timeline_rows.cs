using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Users;
using Presence.Server.Dashboard;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// A timeline's lines are rows of their own, written blind with the events (nothing read, nothing rewritten on the
/// way to a login's command): a user keeps their newest lines, pruned now and then, apart from anyone else's; a reader
/// that keeps what it read is given each user's new lines, even one that commits after a newer line of someone else.
/// </summary>
public sealed class the_timeline_rows : IAsyncLifetime
{
    private static readonly Instant At = Instant.FromUtc(2026, 3, 14, 9, 0);
    private TestServer server = null!;
    private int ids;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: TestServer.WithoutSignalWarmup);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private HousePolicy Policy => server.Services.GetRequiredService<HousePolicy>();

    /// <summary>Refusals (each a line), and a progress report (none), in one transaction per user.</summary>
    private async Task LinesAsync(string user, int count)
    {
        await using var session = server.Store.LightweightSession();
        var events = Enumerable.Range(0, count)
            .Select(i => (object)new RequestRefused(user, $"r-{++ids}", "no", At + Duration.FromSeconds(ids)))
            .Append(new MigrationProgressed(user, "m-1", 40, null, null, null, null, At))
            .ToArray();
        session.Events.Append(user, events);
        await session.SaveChangesAsync();
    }

    private async Task<IReadOnlyList<TimelineRow>> NewestAsync(string user, int count = UserTimeline.Keep)
    {
        await using var session = server.Store.QuerySession();
        return await TimelineReads.NewestAsync(session, user, count, CancellationToken.None);
    }

    private async Task<long> RowCountAsync(string user)
    {
        await using var connection = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand($"select count(*) from presence.{TimelineRow.TableName} where user_name = @user", connection);
        count.Parameters.AddWithValue("user", user);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public void only_events_that_make_a_line_make_a_row()
    {
        Assert.Null(TimelineRow.LineOf(new JasperFx.Events.Event<MigrationProgressed>(new MigrationProgressed("alice", "m-1", 40, null, null, null, null, At)) { StreamKey = "alice" }));
        var line = TimelineRow.LineOf(new JasperFx.Events.Event<RequestRefused>(new RequestRefused("alice", "r-1", "no", At)) { StreamKey = "alice" });
        Assert.Equal(("alice", UserTimeline.Describe(new RequestRefused("alice", "r-1", "no", At))!), line);
    }

    [Fact]
    public async Task each_line_is_a_row_numbered_by_its_event_newest_first_and_apart_per_user()
    {
        await LinesAsync("alice", 3);
        await LinesAsync("bob", 1);

        var alice = await NewestAsync("alice");
        Assert.Equal(["request r-3 refused: no", "request r-2 refused: no", "request r-1 refused: no"], alice.Select(r => r.Entry.Text));
        Assert.True(alice[0].Id > alice[1].Id && alice[1].Id > alice[2].Id && alice[2].Id > 0, string.Join(", ", alice.Select(r => r.Id)));
        Assert.Equal(["request r-4 refused: no"], (await NewestAsync("bob")).Select(r => r.Entry.Text));
        Assert.Equal(2, (await NewestAsync("alice", 2)).Count);
    }

    [Fact]
    public async Task a_user_keeps_the_newest_lines_pruned_now_and_then_and_nobody_else_loses_any()
    {
        await LinesAsync("bob", 3);
        for (var i = 0; i < 10; i++)
        {
            await LinesAsync("alice", 30);
        }

        var kept = await RowCountAsync("alice");
        Assert.InRange(kept, UserTimeline.Keep, UserTimeline.Keep + 2 * TimelineProjection.PruneEvery);
        var newest = await NewestAsync("alice");
        Assert.Equal(Enumerable.Range(0, UserTimeline.Keep).Select(i => $"request r-{ids - i} refused: no"), newest.Select(r => r.Entry.Text));
        Assert.Equal(3, await RowCountAsync("bob"));
    }

    [Fact]
    public async Task a_kept_reader_is_given_each_users_new_lines_once_even_one_committed_after_a_newer_line()
    {
        var kept = new HouseViews.Kept();
        await LinesAsync("alice", 1);
        Assert.Empty(await GainedAsync(kept));

        await LinesAsync("bob", 1);

        // A line of bob's numbered now and committed only after alice's next lines were read, as lanes of two users
        // commit in any order.
        await using var connection = new Npgsql.NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var number = new Npgsql.NpgsqlCommand($"select nextval(pg_get_serial_sequence('presence.{TimelineRow.TableName}', 'id'))", connection);
        var late = (long)(await number.ExecuteScalarAsync())!;

        await LinesAsync("alice", 2);
        var gained = await GainedAsync(kept);
        Assert.Equal([("bob", "request r-2 refused: no"), ("alice", "request r-3 refused: no"), ("alice", "request r-4 refused: no")],
            gained.Select(r => (r.UserName, r.Entry.Text)));
        Assert.Empty(await GainedAsync(kept));

        await using (var insert = new Npgsql.NpgsqlCommand(
            $"insert into presence.{TimelineRow.TableName} (id, user_name, entry) values (@id, 'bob', @entry::jsonb)", connection))
        {
            insert.Parameters.AddWithValue("id", late);
            insert.Parameters.AddWithValue("entry", server.Store.Options.Serializer().ToJson(UserTimeline.Describe(new RequestRefused("bob", "r-late", "no", At))));
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal(["request r-late refused: no"], (await GainedAsync(kept)).Select(r => r.Entry.Text));

        await using var whole = server.Store.QuerySession();
        var heads = (await HouseViews.ReadAsync(whole, Policy, CancellationToken.None)).TimelineHeads;
        Assert.Equal((await NewestAsync("alice"))[0].Id, heads["alice"]);
        Assert.False(heads.ContainsKey("dave"));
    }

    private async Task<IReadOnlyList<TimelineRow>> GainedAsync(HouseViews.Kept kept)
    {
        await using var session = server.Store.QuerySession();
        return (await kept.ReadAsync(session, Policy, CancellationToken.None)).Gained;
    }
}
