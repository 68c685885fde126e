using Marten;
using Presence.Server.Dashboard;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// A store written before the timelines' lines were rows (or before the dashboard) has streams but no lines; the
/// server writes each user's newest from the stream when it starts.
/// </summary>
public sealed class timelines_of_a_store_older_than_the_dashboard
{
    [Fact]
    public async Task are_rebuilt_from_the_streams_at_start()
    {
        var connectionString = await PostgresCluster.NewDatabaseAsync("backfill");
        IReadOnlyList<TimelineEntry> recorded;
        await using (var first = await TestServer.StartAsync(connectionString))
        {
            await using (var emitter = await MqttProbe.ConnectAsAsync(first.MqttPort, "imac-emitter", "imac"))
            {
                await emitter.PublishAsync("presence/hosts/imac/signals/session", """{"id":"login-old","user":"alice","state":"login","seat":"console"}""");
            }

            recorded = await Eventually.GetAsync(async () =>
            {
                await using var session = first.Store.QuerySession();
                return await TimelineReads.NewestAsync(session, "alice", UserTimeline.Keep, CancellationToken.None) is { Count: > 0 } rows
                    ? rows.Select(r => r.Entry).ToList()
                    : null;
            }, "alice's timeline");

            // As it was before: events, no lines.
            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var cleanup = new Npgsql.NpgsqlCommand($"delete from presence.{TimelineRow.TableName}", connection);
            await cleanup.ExecuteNonQueryAsync();
        }

        await using var second = await TestServer.StartAsync(connectionString);
        await using var read = second.Store.QuerySession();
        var rebuilt = (await TimelineReads.NewestAsync(read, "alice", UserTimeline.Keep, CancellationToken.None)).Select(r => r.Entry).ToList();

        Assert.Equal(recorded, rebuilt);
        Assert.Contains(rebuilt, e => e.Kind == "seat_changed" && e.Text == "alice sits at imac, 100% sure");
        Assert.Empty(await TimelineReads.NewestAsync(read, "bob", UserTimeline.Keep, CancellationToken.None));
    }
}
