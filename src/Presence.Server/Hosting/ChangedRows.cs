using System.Data.Common;
using Marten;
using Marten.Linq.QueryHandlers;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Storage;

namespace Presence.Server.Hosting;

/// <summary>
/// A document row by id and version (as <see cref="RowVersion"/> says); its document is null only when the reader asked
/// for versions alone.
/// </summary>
public sealed record VersionedRow<T>(string Id, string Version, T? Document) where T : class;

/// <summary>What a row's version is read from.</summary>
public enum RowVersion
{
    /// <summary>The transaction that wrote the row (<c>xmin</c>): any write of any node changes it.</summary>
    Transaction,

    /// <summary>Marten's <c>mt_version</c>: a projected document's stream version, known after commits.</summary>
    Stream,
}

/// <summary>
/// One statement for readers that keep documents between reads: the rows whose "id:version" is not among the
/// <paramref name="known"/> ones, with their documents, and how many rows there are. Each document comes under the
/// version it was written at, and any node's write changes a row's xmin, so this stays right with several nodes on one
/// database. The known keys are matched by a hash anti-join and unchanged rows are not sent: a 500-seat office asked
/// for every row's id and version and compared each with every known key, each time a lane decided (issue 11 §6).
/// </summary>
/// <param name="ids">Only these rows; all of the table when null.</param>
/// <returns>
/// The changed rows, or null when a known row is no longer there (the count says so): the reader then reads again
/// with nothing known.
/// </returns>
/// <param name="by">What a row's version is read from.</param>
/// <param name="documents">False: the changed rows' ids and versions alone, for a reader that may hold them.</param>
public sealed class ChangedRows<T>(string table, string[] known, string[]? ids, RowVersion by, bool documents)
    : IQueryHandler<IReadOnlyList<VersionedRow<T>>?>
    where T : class
{
    private readonly string version = by == RowVersion.Stream ? "t.mt_version::text" : "t.xmin::text";

    public static ChangedRows<T> Of(
        IQuerySession session, string[] known, string[]? ids = null, RowVersion by = RowVersion.Transaction, bool documents = true) =>
        new(session.DocumentStore.Options.Schema.For<T>(qualified: true), known, ids, by, documents);

    /// <summary>How a kept row is named among the known ones.</summary>
    public static string Key(string id, string version) => id + ":" + version;

    public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
    {
        builder.Append($"select t.id, {version}, {(documents ? "t.data" : "null")} from {table} t where not exists (select from unnest(");
        builder.AppendParameter(known, NpgsqlDbType.Array | NpgsqlDbType.Text);
        builder.Append($") k where k = t.id || ':' || {version})");
        OnlyIds(builder, " and ");
        builder.Append($" union all select null, count(*)::text, null from {table} t");
        OnlyIds(builder, " where ");
    }

    private void OnlyIds(ICommandBuilder builder, string joined)
    {
        if (ids is not null)
        {
            builder.Append(joined + "t.id = any(");
            builder.AppendParameter(ids, NpgsqlDbType.Array | NpgsqlDbType.Text);
            builder.Append(")");
        }
    }

    public async Task<IReadOnlyList<VersionedRow<T>>?> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
    {
        var rows = new List<VersionedRow<T>>();
        var count = 0L;
        while (await reader.ReadAsync(token))
        {
            if (await reader.IsDBNullAsync(0, token))
            {
                count = long.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            rows.Add(new VersionedRow<T>(reader.GetString(0), reader.GetString(1), documents ? session.Serializer.FromJson<T>(reader, 2) : null));
        }

        // Every row there is now is a known one or a new one: fewer rows than the known plus the new means a known one
        // is gone. Most reads find nothing changed, and then nothing is looked up.
        var news = 0;
        if (rows.Count > 0)
        {
            var knownIds = new HashSet<string>(known.Select(k => k[..k.LastIndexOf(':')]), StringComparer.Ordinal);
            news = rows.Count(r => !knownIds.Contains(r.Id));
        }

        return known.Length + news == count ? rows : null;
    }

    public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
        throw new NotSupportedException("kept rows are read as documents, never streamed");
}

/// <summary>
/// Documents of one table as a reader last read them, by id, with the version each was read at: what
/// <see cref="ChangedRows{T}"/> is told is known, and what fills in the rows it did not send. One reader's alone.
/// </summary>
/// <param name="by">As <see cref="ChangedRows{T}"/> reads a row's version.</param>
/// <param name="withDocuments">As <see cref="ChangedRows{T}"/>: false when the reader fills them in itself.</param>
public sealed class KeptRows<T>(RowVersion by = RowVersion.Transaction, bool withDocuments = true) where T : class
{
    private readonly Dictionary<string, (string Version, T Document)> kept = new(StringComparer.Ordinal);

    // Both follow from what is kept, and change only when it does: most reads find nothing changed.
    private string[] known = [];
    private IReadOnlyDictionary<string, T> documents = new Dictionary<string, T>(StringComparer.Ordinal);

    public ChangedRows<T> Query(IQuerySession session, string[]? ids = null) => ChangedRows<T>.Of(session, known, ids, by, withDocuments);

    /// <summary>The rows of <paramref name="ids"/> as they are now, with documents, by the same version.</summary>
    public ChangedRows<T> Whole(IQuerySession session, string[] ids) => ChangedRows<T>.Of(session, [], ids, by);

    /// <summary>
    /// Every row there is now, by id: the changed ones as read, the rest as kept. Null when a kept row is gone: all is
    /// forgotten then, and the next <see cref="Query"/> reads every row.
    /// </summary>
    public IReadOnlyDictionary<string, T>? Take(IReadOnlyList<VersionedRow<T>>? changed)
    {
        if (changed is null)
        {
            kept.Clear();
            DeriveFromKept();
            return null;
        }

        if (changed.Count > 0)
        {
            foreach (var row in changed)
            {
                kept[row.Id] = (row.Version, row.Document ?? throw new ArgumentException($"row {row.Id} came without its document", nameof(changed)));
            }

            DeriveFromKept();
        }

        return documents;
    }

    private void DeriveFromKept()
    {
        known = [.. kept.Select(k => ChangedRows<T>.Key(k.Key, k.Value.Version))];
        documents = kept.ToDictionary(r => r.Key, r => r.Value.Document, StringComparer.Ordinal);
    }
}
