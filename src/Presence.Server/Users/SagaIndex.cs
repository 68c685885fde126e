using System.Linq.Expressions;
using Marten;
using Marten.Linq.MatchesSql;
using Marten.Services.BatchQuerying;
using Presence.Server.Hosting;
using Presence.Domain.Users;
using Weasel.Postgresql.Tables;

namespace Presence.Server.Users;

/// <summary>
/// Finds the sagas news about a host may concern without reading every saga of the house: each saga document keeps
/// the hosts it has anything on (<see cref="UserSaga.Involves"/>, the rule's own list in <see cref="HostNews"/>) in a
/// column of its own with a GIN index, and a query asks for the sagas whose list contains the host. It only
/// pre-selects; <see cref="HostNews"/> still decides whom the news concerns.
/// </summary>
public static class SagaIndex
{
    public static StoreOptions IndexSagasByHost(this StoreOptions opts)
    {
        // A duplicated text[] column, not the jsonb: Marten writes it with every upsert of the document, in the same
        // statement, and a GIN index answers `involves @> array[host]` without touching other rows.
        opts.Schema.For<UserSaga>().Duplicate(s => s.Involves, pgType: "text[]", configure: i => i.Method = IndexMethod.gin);
        return opts;
    }

    /// <summary>
    /// The sagas involved with <paramref name="host"/>, and those of <paramref name="alsoUsers"/>. Marten's LINQ turns
    /// `Involves.Contains(host)` into `host = ANY(involves)`, which no index answers, so the containment is written
    /// out (MatchesSql, Marten's way to add raw SQL to a LINQ query). Sagas involved with nothing come too: a saga
    /// stored before the column existed has it filled from its JSON, which had no such list, so it reads empty until
    /// its next decision rewrites it; reading it costs one document, missing it would lose a move.
    /// </summary>
    public static IQueryable<UserSaga> Involving(IQuerySession session, string host, IReadOnlyCollection<string> alsoUsers) =>
        session.Query<UserSaga>().Where(InvolvingWhere(host, alsoUsers));

    private static Expression<Func<UserSaga, bool>> InvolvingWhere(string host, IReadOnlyCollection<string> alsoUsers)
    {
        var users = alsoUsers.ToArray();
        return s => s.MatchesSql("(involves @> array[?] or involves = '{}' or id = any(?))", host, users);
    }

    /// <summary>
    /// Reads the sagas involved with <paramref name="host"/> in <paramref name="batch"/>, for the session's later
    /// <see cref="InvolvingAsync(IQuerySession, string, IReadOnlyCollection{string}, CancellationToken)"/> of that host
    /// alone; complete once the batch has run.
    /// </summary>
    public static async Task InvolvingAsync(IBatchedQuery batch, IQuerySession session, string host)
    {
        var sagas = await batch.Query<UserSaga>().Where(InvolvingWhere(host, [])).ToList();
        SessionReads.Of(session).Involving[host] = sagas;
    }

    public static async Task<IReadOnlyList<UserSaga>> InvolvingAsync(
        IQuerySession session, string host, IReadOnlyCollection<string> alsoUsers, CancellationToken ct) =>
        alsoUsers.Count == 0 && SessionReads.Existing(session) is { } reads && reads.Involving.TryGetValue(host, out var read)
            ? read
            : await Involving(session, host, alsoUsers).ToListAsync(ct);
}
