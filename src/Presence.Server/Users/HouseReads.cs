using System.Runtime.CompilerServices;
using Marten;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Server.Hosting;

namespace Presence.Server.Users;

/// <summary>
/// The configured hosts as their agents last described them, for every decision. Reading them whole cost each signal
/// every host document (21.6 KB of JSON for 50 computers, issue 11) although they change far more rarely than
/// people's evidence arrives; so one small query asks PostgreSQL which row versions the host table holds (each
/// row's id and <c>xmin</c>, the transaction that wrote it), and the documents are read again only when that
/// changed. Kept per document store (a test process runs several servers), shared by all lanes: the snapshot is
/// immutable. Any node's write changes a row's xmin, so this stays right with several nodes on one database.
/// </summary>
public sealed class HouseReads
{
    private static readonly ConditionalWeakTable<IDocumentStore, HouseReads> PerStore = new();

    /// <summary>What was read under <see cref="Versions"/>: the snapshot, and each row's facts under the version they were read at.</summary>
    private sealed record Read(string Versions, HousePolicy Policy, HouseSnapshot House, IReadOnlyDictionary<string, Row> Rows);

    private sealed record Row(string Version, HostFacts Facts);

    private volatile Read? last;

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
        return SessionReads.Of(session).House ??= await ReadKeptAsync(session, policy, ct);
    }

    private static async Task<HouseSnapshot> ReadKeptAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var reads = PerStore.GetValue(session.DocumentStore, _ => new HouseReads());
        var table = session.DocumentStore.Options.Schema.For<HostState>(qualified: true);
        var versions = (await session.QueryAsync<string>(
            $"select coalesce(string_agg(id || ':' || xmin::text, ',' order by id), '') from {table}", ct)).Single();
        var kept = reads.last;
        if (kept is not null && kept.Versions == versions && ReferenceEquals(kept.Policy, policy))
        {
            return kept.House;
        }

        // Only the rows whose version changed (or that are new) are read again: a login at a seat changes that seat's
        // row alone, and the other hosts keep their facts, the same instances, so their fingerprints (HouseSeen.PrintOf,
        // kept per instance) are not taken again either. Read after the versions: a row changed in between is read as
        // it is now, under the older version, so the next call reads it again; what is kept is never older than the
        // version it is kept under.
        var now = Versions(versions);
        var rows = new Dictionary<string, Row>(now.Count, StringComparer.Ordinal);
        var stale = new List<string>();
        foreach (var (id, version) in now)
        {
            if (kept is not null && kept.Rows.TryGetValue(id, out var row) && row.Version == version)
            {
                rows[id] = row;
            }
            else
            {
                stale.Add(id);
            }
        }

        if (stale.Count > 0)
        {
            foreach (var state in await session.LoadManyAsync<HostState>(ct, stale))
            {
                rows[state.Id] = new Row(now[state.Id], state.ToFacts());
            }
        }

        var house = Snapshot(policy, rows.Values.Select(r => r.Facts));
        reads.last = new Read(versions, policy, house, rows);
        return house;
    }

    /// <summary>Each row's version by its id, from the versions query's "id:xmin,id:xmin" (ids never hold a comma: HostState.StreamId).</summary>
    private static Dictionary<string, string> Versions(string versions)
    {
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in versions.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = row.LastIndexOf(':');
            byId[row[..colon]] = row[(colon + 1)..];
        }

        return byId;
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
