using Marten;
using Presence.Domain.House;

namespace Presence.Server.Dashboard;

/// <summary>
/// An inline projection only sees events appended after it was added: a house whose event store predates the
/// timeline's rows (TimelineRow) would show empty timelines until each user's next decision. At start, before the MQTT
/// bridge takes signals (so no new event races the rebuild), each user whose stream exists but who has no line gets
/// the newest lines of the stream written. A house that had them from the start pays one query.
/// </summary>
public sealed class TimelineBackfill(IDocumentStore store, HousePolicy policy, ILogger<TimelineBackfill> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var users = policy.Users.Select(u => u.Name).ToArray();
        await using var session = store.LightweightSession();
        var batch = session.CreateBatchQuery();
        var heads = batch.AddItem(TimelineReads.Heads.Of(session, users));
        await batch.Execute(cancellationToken);
        var present = await heads;
        foreach (var user in users.Where(u => !present.ContainsKey(u)))
        {
            var events = await session.Events.FetchStreamAsync(user, token: cancellationToken);
            var lines = events.Select(TimelineRow.LineOf).OfType<(string User, TimelineEntry Entry)>().TakeLast(UserTimeline.Keep).ToList();
            if (lines.Count == 0)
            {
                continue;
            }

            foreach (var (_, entry) in lines)
            {
                TimelineRow.Insert(session, user, entry);
            }

            await session.SaveChangesAsync(cancellationToken);
            log.LogInformation("Wrote {User}'s {Count} newest timeline lines from the stream recorded before they were kept as rows", user, lines.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
