using System.Data.Common;
using Marten;
using Marten.Linq.QueryHandlers;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Storage;

namespace Presence.Server.Dashboard;

/// <summary>
/// The reads of the timelines' rows (<see cref="TimelineRow"/>), each one statement for a Marten batch: a user's newest
/// lines, each user's newest line's number, and the lines since.
/// </summary>
public static class TimelineReads
{
    /// <summary>A user's newest <paramref name="count"/> lines, newest first.</summary>
    public static async Task<IReadOnlyList<TimelineRow>> NewestAsync(IQuerySession session, string user, int count, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var rows = batch.AddItem(new Newest(TimelineRow.Table(session.DocumentStore), user, count));
        await batch.Execute(ct);
        return await rows;
    }

    private sealed class Newest(string table, string user, int count) : Rows
    {
        public override void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
        {
            builder.Append($"select id, user_name, entry from {table} where user_name = ");
            builder.AppendParameter(user);
            builder.Append($" order by id desc limit {count}");
        }
    }

    /// <summary>
    /// Each user's newest line's number (users without a line are left out): a page tells a changed timeline by it.
    /// </summary>
    public sealed class Heads(string table, string[] users) : IQueryHandler<IReadOnlyDictionary<string, long>>
    {
        public static Heads Of(IQuerySession session, string[] users) => new(TimelineRow.Table(session.DocumentStore), users);

        public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
        {
            builder.Append($"select user_name, max(id) from {table} where user_name = any(");
            builder.AppendParameter(users, NpgsqlDbType.Array | NpgsqlDbType.Varchar);
            builder.Append(") group by user_name");
        }

        public async Task<IReadOnlyDictionary<string, long>> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
        {
            var heads = new Dictionary<string, long>(StringComparer.Ordinal);
            while (await reader.ReadAsync(token))
            {
                heads[reader.GetString(0)] = reader.GetInt64(1);
            }

            return heads;
        }

        public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
            throw new NotSupportedException("read as numbers, never streamed");
    }

    /// <summary>
    /// The lines each user gained after <paramref name="heads"/> (their newest line's number as last read; 0 for none),
    /// oldest first. By user, not by one number for the house: lines of different users commit in any order, so a
    /// line numbered below one already read may still arrive; one user's lines commit in order.
    /// </summary>
    public sealed class Gained(string table, IReadOnlyDictionary<string, long> heads) : Rows
    {
        public static Gained Of(IQuerySession session, IReadOnlyDictionary<string, long> heads) => new(TimelineRow.Table(session.DocumentStore), heads);

        public override void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
        {
            builder.Append($"select t.id, t.user_name, t.entry from {table} t join unnest(");
            builder.AppendParameter(heads.Keys.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Varchar);
            builder.Append(", ");
            builder.AppendParameter(heads.Values.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
            builder.Append(") h(u, head) on t.user_name = h.u and t.id > h.head order by t.id");
        }
    }

    /// <summary>Rows read as id, user and the line's JSON.</summary>
    public abstract class Rows : IQueryHandler<IReadOnlyList<TimelineRow>>
    {
        public abstract void ConfigureCommand(ICommandBuilder builder, IStorageSession session);

        public async Task<IReadOnlyList<TimelineRow>> HandleAsync(DbDataReader reader, IStorageSession session, CancellationToken token)
        {
            var rows = new List<TimelineRow>();
            while (await reader.ReadAsync(token))
            {
                rows.Add(new TimelineRow(reader.GetInt64(0), reader.GetString(1), session.Serializer.FromJson<TimelineEntry>(reader, 2)));
            }

            return rows;
        }

        public Task<int> StreamJson(Stream stream, DbDataReader reader, CancellationToken token) =>
            throw new NotSupportedException("read as lines, never streamed");
    }
}
