using System.Globalization;
using Marten;
using Presence.Domain.Audit;

namespace Presence.Server.Audit;

/// <summary>Reads a stream from the event store as history: each event with its audit metadata.</summary>
public static class StoredHistory
{
    /// <summary>The stream's events in order; empty when there is no such stream.</summary>
    public static async Task<IReadOnlyList<Recorded>> LoadAsync(IQuerySession session, string streamId, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(streamId, token: ct);
        return events
            .Where(e => e.Data is IDomainEvent)
            .Select(e => new Recorded(
                e.Version,
                (IDomainEvent)e.Data,
                e.CorrelationId,
                e.CausationId,
                (e.Headers ?? []).ToDictionary(h => h.Key, h => Convert.ToString(h.Value, CultureInfo.InvariantCulture) ?? "")))
            .ToList();
    }
}
