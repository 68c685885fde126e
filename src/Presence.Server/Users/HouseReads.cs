using System.Runtime.CompilerServices;
using Marten;
using Marten.Services;
using Marten.Services.BatchQuerying;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// The configured hosts as their agents last described them, for every decision. Reading them whole cost each signal
/// every host document (21.6 KB of JSON for 50 computers, issue 11) although they change far more rarely than
/// people's evidence arrives; so one query asks PostgreSQL for the rows whose version (<c>xmin</c>, the transaction
/// that wrote it) is not the one kept, and how many rows there are (<see cref="ChangedRows{T}"/>). Kept per
/// document store (a test process runs several servers), shared by all lanes: the snapshot is immutable. Any node's
/// write changes a row's xmin, so this stays right with several nodes on one database.
/// </summary>
public sealed class HouseReads
{
    private static readonly ConditionalWeakTable<IDocumentStore, HouseReads> PerStore = new();

    /// <summary>
    /// What was read last: the snapshot, each row's facts under the version they were read at, and how many of this
    /// node's commits had changed a host when the read began (<see cref="changes"/>).
    /// </summary>
    private sealed record Read(HousePolicy Policy, HouseSnapshot House, IReadOnlyDictionary<string, Row> Rows, long Changes)
    {
        /// <summary>
        /// Each row as the query is told it is known: built once per reading, not once per query (an office has 500).
        /// </summary>
        public string[] Known { get; } = [.. Rows.Select(r => ChangedRows<HostState>.Key(r.Key, r.Value.Version))];
    }

    private sealed record Row(string Version, HostFacts Facts);

    private volatile Read? last;

    /// <summary>
    /// This node's commits that changed a host (an agent's report, a host's own signal): after one, what is kept is
    /// read again before it is decided on, rather than found stale when the decision commits (<see cref="Kept"/>).
    /// </summary>
    private long changes;

    /// <summary>Counts this node's commits that changed a host document; registered on the store's options.</summary>
    public static StoreOptions NoticeHostChanges(StoreOptions opts)
    {
        opts.Listeners.Add(new HostsCommitted());
        return opts;
    }

    /// <summary>The house; <paramref name="changed"/> is a host as news in this session left it (not yet committed).</summary>
    public static async Task<HouseSnapshot> ReadAsync(IQuerySession session, HousePolicy policy, CancellationToken ct, HostState? changed = null)
    {
        if (changed is not null)
        {
            // The session's own uncommitted change: not what any other reader sees, so not kept.
            var known = (await session.Query<HostState>().ToListAsync(ct)).Where(h => h.Name != changed.Name).Select(h => h.ToFacts());
            return Snapshot(policy, known.Append(changed.ToFacts()));
        }

        // A batch of inputs (SignalsArrived) is decided on one reading of the house, as if at one moment.
        var reads = SessionReads.Of(session);
        while (reads.House is null)
        {
            // Again (with nothing kept) when a row that was kept is gone.
            var batch = session.CreateBatchQuery();
            var reading = ReadAsync(batch, session, policy);
            await batch.Execute(ct);
            await reading;
        }

        return reads.House;
    }

    /// <summary>
    /// Queues the reading of the house in <paramref name="batch"/>, so that it goes to PostgreSQL with whatever else a
    /// handler reads before it decides (one round trip); the session's later <see cref="ReadAsync"/> returns it.
    /// Complete once the batch has run. Left unread when a kept row is gone: the later read then reads every row.
    /// </summary>
    public static async Task ReadAsync(IBatchedQuery batch, IQuerySession session, HousePolicy policy)
    {
        var reads = SessionReads.Of(session);
        if (reads.House is not null)
        {
            return;
        }

        var kept = Of(session).last;
        var changes = Interlocked.Read(ref Of(session).changes);
        reads.House = Assemble(session, policy, kept, await batch.AddItem(ChangedRows<HostState>.Of(session, kept?.Known ?? [])), changes);
    }

    /// <summary>
    /// The house as this node last read it, and the rows it was read from as <see cref="ChangedRows{T}"/> names them:
    /// for a decision made without reading (<see cref="KeptReading"/>), which asserts them unchanged at commit. Null
    /// when nothing is kept or the house file changed since.
    /// </summary>
    public static (HouseSnapshot House, string[] Rows)? Kept(IQuerySession session, HousePolicy policy)
    {
        var reads = Of(session);
        return reads.last is { } kept && ReferenceEquals(kept.Policy, policy) && kept.Changes == Interlocked.Read(ref reads.changes)
            ? (kept.House, kept.Known)
            : null;
    }

    private static HouseReads Of(IQuerySession session) => PerStore.GetValue(session.DocumentStore, _ => new HouseReads());

    /// <summary>
    /// The house from the rows kept and the documents of the rows that changed: the same snapshot as before when none
    /// did, and the facts of every unchanged host the same instances, so their fingerprints (HouseSeen.PrintOf, kept
    /// per instance) are not taken again either. Null, and nothing kept, when a kept row is gone.
    /// </summary>
    private static HouseSnapshot? Assemble(
        IQuerySession session, HousePolicy policy, Read? kept, IReadOnlyList<VersionedRow<HostState>>? changed, long changes)
    {
        if (changed is null)
        {
            Of(session).last = null;
            return null;
        }

        // Not what a session that is rolled back read (SignalWarmup's rehearsal, with hosts of its own): no one else
        // will ever see those rows.
        var keeps = !SessionReads.Of(session).RollsBack;
        if (kept is not null && ReferenceEquals(kept.Policy, policy) && changed.Count == 0)
        {
            if (keeps && kept.Changes != changes)
            {
                Of(session).last = kept with { Changes = changes };
            }

            return kept.House;
        }

        var rows = kept is null
            ? new Dictionary<string, Row>(changed.Count, StringComparer.Ordinal)
            : new Dictionary<string, Row>(kept.Rows, StringComparer.Ordinal);
        foreach (var row in changed)
        {
            rows[row.Id] = new Row(row.Version, row.Document!.ToFacts());
        }

        var house = Snapshot(policy, rows.Values.Select(r => r.Facts));
        if (keeps)
        {
            Of(session).last = new Read(policy, house, rows, changes);
        }

        return house;
    }

    private sealed class HostsCommitted : DocumentSessionListenerBase
    {
        public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
        {
            if (commit.GetStreams().Any(s => s.Key?.StartsWith(HostState.StreamPrefix, StringComparison.Ordinal) == true)
                || commit.Updated.Concat(commit.Inserted).Any(d => d is HostState) || commit.Deleted.Any(d => d.Document is HostState))
            {
                Interlocked.Increment(ref Of(session).changes);
            }

            return Task.CompletedTask;
        }
    }

    private static HouseSnapshot Snapshot(HousePolicy policy, IEnumerable<HostFacts> known)
    {
        var byName = new Dictionary<string, HostFacts>(StringComparer.Ordinal);
        foreach (var facts in known)
        {
            byName[facts.Name] = facts;
        }

        return new HouseSnapshot(policy.Hosts
            .Select(h => byName.TryGetValue(h.Name, out var facts) ? facts : HostFacts.Unknown(h.Name))
            .ToList()).Normalised();
    }
}
