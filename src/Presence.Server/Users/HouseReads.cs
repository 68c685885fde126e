using System.Runtime.CompilerServices;
using Marten;
using Presence.Domain.House;
using Presence.Domain.Hosts;

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
    private static readonly ConditionalWeakTable<IQuerySession, HouseSnapshot> PerSession = new();

    private sealed record Read(string Versions, HousePolicy Policy, HouseSnapshot House);

    private volatile Read? last;

    /// <summary>The house; <paramref name="changed"/> is a host as news in this session left it (not yet committed).</summary>
    public static async Task<HouseSnapshot> ReadAsync(IQuerySession session, HousePolicy policy, CancellationToken ct, HostState? changed = null)
    {
        if (changed is not null)
        {
            // The session's own uncommitted change: not what any other reader sees, so not kept.
            return Snapshot(policy, await session.Query<HostState>().ToListAsync(ct), changed);
        }

        // A batch of inputs (SignalsArrived) is decided on one reading of the house, as if at one moment.
        if (PerSession.TryGetValue(session, out var read))
        {
            return read;
        }

        var house = await ReadKeptAsync(session, policy, ct);
        PerSession.AddOrUpdate(session, house);
        return house;
    }

    private static async Task<HouseSnapshot> ReadKeptAsync(IQuerySession session, HousePolicy policy, CancellationToken ct)
    {
        var reads = PerStore.GetValue(session.DocumentStore, _ => new HouseReads());
        var table = session.DocumentStore.Options.Schema.For<HostState>(qualified: true);
        var versions = (await session.QueryAsync<string>(
            $"select coalesce(string_agg(id || ':' || xmin::text, ',' order by id), '') from {table}", ct)).Single();
        if (reads.last is { } read && read.Versions == versions && ReferenceEquals(read.Policy, policy))
        {
            return read.House;
        }

        // Read after the versions: a change committed in between is in this snapshot and makes the next call read again
        // (its versions differ), so what is kept is never older than the versions it is kept under.
        var house = Snapshot(policy, await session.Query<HostState>().ToListAsync(ct), null);
        reads.last = new Read(versions, policy, house);
        return house;
    }

    private static HouseSnapshot Snapshot(HousePolicy policy, IReadOnlyList<HostState> known, HostState? changed)
    {
        var byName = known.ToDictionary(h => h.Name);
        if (changed is not null)
        {
            byName[changed.Name] = changed;
        }

        return new HouseSnapshot(policy.Hosts
            .Select(h => byName.TryGetValue(h.Name, out var host) ? host.ToFacts() : HostFacts.Unknown(h.Name))
            .ToList()).Normalised();
    }
}
