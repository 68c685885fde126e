using System.Data.Common;
using Marten;
using Marten.Linq.QueryHandlers;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Storage;

namespace Presence.Server.Hosting;

/// <summary>
/// A document row by id and version (<c>xmin</c>, the transaction that wrote it); the document only when it was read.
/// </summary>
public sealed record VersionedRow<T>(string Id, string Version, T? Document) where T : class;

/// <summary>
/// One statement for readers that keep documents between reads: every row's id and version, and the document only of
/// a row whose "id:version" is not among the <paramref name="known"/> ones. Each document comes under the version it
/// was written at, and any node's write changes a row's xmin, so this stays right with several nodes on one database.
/// </summary>
/// <param name="ids">Only these rows; all of the table when null.</param>
public sealed class ChangedRows<T>(string table, string[] known, string[]? ids) : IQueryHandler<IReadOnlyList<VersionedRow<T>>>
    where T : class
{
    public static ChangedRows<T> Of(IQuerySession session, string[] known, string[]? ids = null) =>
        new(session.DocumentStore.Options.Schema.For<T>(qualified: true), known, ids);

    /// <summary>How a kept row is named among the known ones.</summary>
    public static string Key(string id, string version) => id + ":" + version;

    public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
    {
        builder.Append("select id, xmin::text, case when id || ':' || xmin::text = any(");
        builder.AppendParameter(known, NpgsqlDbType.Array | NpgsqlDbType.Text);
        builder.Append($") then null else data end from {table}");
        if (ids is not null)
        {
            builder.Append(" where id = any(");
            builder.AppendParameter(ids, NpgsqlDbType.Array | NpgsqlDbType.Text);
            builder.Append(")");
        }
    }

    public async Task<IReadOnlyList<VersionedRow<T>>> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
    {
        var rows = new List<VersionedRow<T>>();
        while (await reader.ReadAsync(token))
        {
            var changed = !await reader.IsDBNullAsync(2, token);
            rows.Add(new VersionedRow<T>(reader.GetString(0), reader.GetString(1), changed ? session.Serializer.FromJson<T>(reader, 2) : null));
        }

        return rows;
    }

    public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
        throw new NotSupportedException("kept rows are read as documents, never streamed");
}

/// <summary>
/// Documents of one table as a reader last read them, by id, with the version each was read at: what
/// <see cref="ChangedRows{T}"/> is told is known, and what fills in the rows it did not read again. One reader's alone.
/// </summary>
public sealed class KeptRows<T> where T : class
{
    private Dictionary<string, (string Version, T Document)> kept = new(StringComparer.Ordinal);

    public ChangedRows<T> Query(IQuerySession session, string[]? ids = null) =>
        ChangedRows<T>.Of(session, [.. kept.Select(k => ChangedRows<T>.Key(k.Key, k.Value.Version))], ids);

    /// <summary>
    /// Every row there is now, by id: the ones read again, the rest as kept. Rows no longer there are forgotten.
    /// </summary>
    public IReadOnlyDictionary<string, T> Take(IReadOnlyList<VersionedRow<T>> rows)
    {
        var now = new Dictionary<string, (string Version, T Document)>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            now[row.Id] = (row.Version, row.Document ?? kept[row.Id].Document);
        }

        kept = now;
        return now.ToDictionary(r => r.Key, r => r.Value.Document, StringComparer.Ordinal);
    }
}
