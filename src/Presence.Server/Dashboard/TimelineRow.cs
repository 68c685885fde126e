using JasperFx.Events;
using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Presence.Server.Dashboard;

/// <summary>
/// One line of a user's timeline as a row of its own (table <see cref="TableName"/>), inserted in the transaction of
/// the event it tells (TimelineProjection). A login used to read and rewrite its user's whole timeline, the newest 50
/// lines in one ~10 KB document, on the warm path of every login; now it inserts a row or two and reads nothing.
/// </summary>
/// <param name="Id">The line's number, from the table's own sequence when the row is inserted: it increases with each
/// line of a user, whose inputs commit one after the other. Not the event's sequence: Marten's quick append numbers
/// events in the database, after inline projections ran.</param>
public sealed record TimelineRow(long Id, string UserName, TimelineEntry Entry)
{
    public const string TableName = "timeline_lines";

    /// <summary>The table's qualified name in the store's schema.</summary>
    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.{TableName}";

    /// <summary>
    /// The table, created with the rest of the schema at start: a user's lines are always read newest first or after a
    /// number, hence the index on both.
    /// </summary>
    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("id").BigAutoIncrement().AsPrimaryKey();
        table.AddColumn("user_name", "varchar").NotNull();
        table.AddColumn("entry", "jsonb").NotNull();
        table.Indexes.Add(new IndexDefinition($"{TableName}_user_id") { Columns = ["user_name", "id"] });
        return table;
    }

    /// <summary>The line for an event of a user's stream (its user and words), or null if it makes none.</summary>
    public static (string User, TimelineEntry Entry)? LineOf(IEvent e) =>
        e.StreamKey is { } user && UserTimeline.Describe(e.Data) is { } entry ? (user, entry) : null;

    /// <summary>Queues a line's insert in <paramref name="operations"/>' transaction; the table numbers it.</summary>
    public static void Insert(IDocumentOperations operations, string user, TimelineEntry entry) =>
        operations.QueueSqlCommand(
            $"insert into {Table(operations.DocumentStore)} (user_name, entry) values (?, ?::jsonb)",
            user, operations.DocumentStore.Options.Serializer().ToJson(entry));

    /// <summary>Queues the delete of a user's lines beyond their newest <paramref name="keep"/>.</summary>
    public static void Prune(IDocumentOperations operations, string user, int keep)
    {
        var table = Table(operations.DocumentStore);
        operations.QueueSqlCommand(
            $"delete from {table} where user_name = ? and id < coalesce((select id from {table} where user_name = ? " +
            $"order by id desc offset {keep - 1} limit 1), 0)",
            user, user);
    }
}
