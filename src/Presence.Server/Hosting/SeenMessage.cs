using Marten;
using Marten.Services.BatchQuerying;
using NodaTime;

namespace Presence.Server.Hosting;

/// <summary>
/// A contract `id` already processed on a topic. MQTT QoS 1 redelivers, and Wolverine's inbox only knows its own
/// envelope ids, so the contract's de-duplication is a document written in the same transaction as the events:
/// a concurrent duplicate then fails on the primary key and, retried, finds it.
/// </summary>
public sealed record SeenMessage(string Id, Instant At)
{
    public static string Key(string topic, string id) => topic + "#" + id;

    /// <summary>
    /// Looks up a batch's ids in <paramref name="batch"/> (one round trip with whatever else the batch reads) before its
    /// inputs are handled one by one: none of them needs a query of its own in <see cref="IsDuplicateAsync"/>.
    /// Complete once the batch has run.
    /// </summary>
    public static async Task LookUpAsync(IBatchedQuery batch, IDocumentSession session, IEnumerable<(string Topic, string? Id)> messages)
    {
        string[] keys = [.. messages.Where(m => m.Id is not null).Select(m => Key(m.Topic, m.Id!)).Distinct()];
        var stored = keys.Length == 0 ? [] : (await batch.LoadMany<SeenMessage>().ById(keys)).Select(s => s.Id).ToHashSet();
        var looked = SessionReads.Of(session).Seen;
        foreach (var key in keys)
        {
            looked[key] = stored.Contains(key);
        }
    }

    /// <summary>True when this delivery is a duplicate; otherwise marks it seen within the session's transaction.</summary>
    public static async Task<bool> IsDuplicateAsync(IDocumentSession session, string topic, string? id, Instant at, CancellationToken ct = default)
    {
        if (id is null)
        {
            return false;
        }

        var key = Key(topic, id);
        // Looked up for a batch (LookUpAsync), or stored below: a batch of inputs handled in one session
        // (SignalsArrived) may bring the same id twice before it is committed.
        var reads = SessionReads.Of(session);
        if (!reads.Seen.TryGetValue(key, out var stored))
        {
            stored = await session.LoadAsync<SeenMessage>(key, ct) is not null;
        }

        if (stored)
        {
            return true;
        }

        reads.StoreSeen(session, new SeenMessage(key, at));
        return false;
    }
}
