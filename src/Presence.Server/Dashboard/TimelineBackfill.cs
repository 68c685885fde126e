using Marten;
using Presence.Domain.House;

namespace Presence.Server.Dashboard;

/// <summary>
/// An inline projection only sees events appended after it was added: a house whose event store predates the
/// dashboard would show empty timelines until each user's next decision. At start, before the MQTT bridge takes
/// signals (so no new event races the rebuild), each user whose stream exists but whose timeline does not gets it
/// rebuilt from the stream. A house that had the dashboard from the start pays one query.
/// </summary>
public sealed class TimelineBackfill(IDocumentStore store, HousePolicy policy, ILogger<TimelineBackfill> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var users = policy.Users.Select(u => u.Name).ToArray();
        await using var session = store.QuerySession();
        var present = (await session.LoadManyAsync<UserTimeline>(cancellationToken, users)).Select(t => t.Id).ToHashSet();
        foreach (var user in users.Where(u => !present.Contains(u)))
        {
            if (await session.Events.FetchStreamStateAsync(user, cancellationToken) is null)
            {
                continue;
            }

            await store.Advanced.RebuildSingleStreamAsync<UserTimeline>(user, cancellationToken);
            log.LogInformation("Rebuilt {User}'s dashboard timeline from the stream recorded before the dashboard existed", user);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
