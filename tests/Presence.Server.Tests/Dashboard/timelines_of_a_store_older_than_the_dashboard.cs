using Marten;
using Presence.Server.Dashboard;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>
/// A store written before the timeline projection existed has streams but no timelines; the server rebuilds them
/// from the streams when it starts.
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
                return (await session.LoadAsync<UserTimeline>("alice"))?.Entries is { Count: > 0 } entries ? entries : null;
            }, "alice's timeline");

            // As it was before the dashboard: events, no timelines.
            await using var cleanup = first.Store.LightweightSession();
            cleanup.DeleteWhere<UserTimeline>(_ => true);
            await cleanup.SaveChangesAsync();
        }

        await using var second = await TestServer.StartAsync(connectionString);
        await using var read = second.Store.QuerySession();
        var rebuilt = await read.LoadAsync<UserTimeline>("alice");

        Assert.NotNull(rebuilt);
        Assert.Equal(recorded, rebuilt.Entries);
        Assert.Contains(rebuilt.Entries, e => e.Kind == "seat_changed" && e.Text == "alice sits at imac, 100% sure");
        Assert.Null(await read.LoadAsync<UserTimeline>("bob"));
    }
}
