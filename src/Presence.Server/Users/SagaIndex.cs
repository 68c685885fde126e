using System.Data.Common;
using System.Linq.Expressions;
using Marten;
using Marten.Linq.MatchesSql;
using Marten.Linq.QueryHandlers;
using NpgsqlTypes;
using Marten.Services.BatchQuerying;
using Presence.Server.Hosting;
using Presence.Domain.Users;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Weasel.Storage;

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
    /// Whether a saga whose stored list is <paramref name="involves"/> is among those <see cref="Involving"/> finds for
    /// <paramref name="host"/>: the same rule in memory, for the sagas a node keeps (<see cref="KeptSagas"/>).
    /// </summary>
    public static bool Concerns(IReadOnlyList<string> involves, string host) => involves.Count == 0 || involves.Contains(host);

    /// <summary>The same rule in SQL, for statements of our own over a saga table aliased <c>t</c>.</summary>
    public static void AppendInvolving(ICommandBuilder builder, string host)
    {
        builder.Append("(t.involves @> array[");
        builder.AppendParameter(host, NpgsqlDbType.Text);
        builder.Append("]::text[] or t.involves = '{}')");
    }

    /// <summary>
    /// Reads the sagas involved with <paramref name="host"/> in <paramref name="batch"/>, for the session's later
    /// <see cref="InvolvingAsync(IQuerySession, string, IReadOnlyCollection{string}, CancellationToken)"/> of that host
    /// alone; complete once the batch has run. With their versions and lists, which the node keeps.
    /// </summary>
    public static async Task InvolvingAsync(IBatchedQuery batch, IQuerySession session, string host)
    {
        var rows = await batch.AddItem(new SagaRows(session.DocumentStore.Options.Schema.For<UserSaga>(qualified: true), host));
        var reads = SessionReads.Of(session);
        reads.Involving[host] = [.. rows.Select(r => r.Saga)];
        if (!reads.RollsBack)
        {
            KeptSagas.Of(session.DocumentStore).Load(rows, complete: false);
        }
    }

    /// <summary>
    /// Reads every saga stored, with its version and list, in <paramref name="batch"/>, for the node to keep; not in a
    /// session that is rolled back (DecisionReads asks only outside one).
    /// </summary>
    public static async Task AllAsync(IBatchedQuery batch, IQuerySession session)
    {
        var rows = await batch.AddItem(new SagaRows(session.DocumentStore.Options.Schema.For<UserSaga>(qualified: true), null));
        KeptSagas.Of(session.DocumentStore).Load(rows, complete: true);
    }

    public static async Task<IReadOnlyList<UserSaga>> InvolvingAsync(
        IQuerySession session, string host, IReadOnlyCollection<string> alsoUsers, CancellationToken ct) =>
        alsoUsers.Count == 0 && SessionReads.Existing(session) is { } reads && reads.Involving.TryGetValue(host, out var read)
            ? read
            : await Involving(session, host, alsoUsers).ToListAsync(ct);

    /// <summary>Sagas with their stream version and their stored list of hosts: those involved with a host, or all.</summary>
    private sealed class SagaRows(string table, string? host) : IQueryHandler<IReadOnlyList<KeptSaga>>
    {
        public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
        {
            builder.Append($"select t.data, t.mt_version, t.involves from {table} t");
            if (host is not null)
            {
                builder.Append(" where ");
                AppendInvolving(builder, host);
            }
        }

        public async Task<IReadOnlyList<KeptSaga>> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
        {
            var rows = new List<KeptSaga>();
            while (await reader.ReadAsync(token))
            {
                var saga = session.Serializer.FromJson<UserSaga>(reader, 0);
                var involves = await reader.IsDBNullAsync(2, token) ? null : reader.GetFieldValue<string[]>(2);
                rows.Add(new KeptSaga(saga, reader.GetInt64(1), involves));
            }

            return rows;
        }

        public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
            throw new NotSupportedException("kept sagas are read as documents, never streamed");
    }
}
