using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Wolverine;

namespace Presence.Server.Mqtt;

/// <summary>
/// The inputs the bridge stored for Wolverine and that are not yet done with, numbered in the order they were stored
/// (table <see cref="TableName"/>, a row inserted in the transaction that stores the input, deleted in the one that
/// handles it). Wolverine handles a lane's stored inputs in order while the node that stored them lives; a node that
/// takes a dead one's inbox over selects its rows with no order (PostgresqlMessageStore's at-large envelopes,
/// Wolverine's issue #1724), and 200 stored signals came back as drill-000041… before drill-000001…
/// (Drills/server_killed_with_stored_inputs). So each stored input waits, when it comes up, for those of its lane
/// stored before it (<see cref="InTurn"/>), and a node that starts finds here which lanes have some waiting
/// (<see cref="InboundLanes"/>): what comes for such a lane is stored behind them, not handled at once before them.
/// </summary>
public static class StoredInputs
{
    public const string TableName = "stored_inputs";

    public static string Table(IDocumentStore store) => $"{store.Options.DatabaseSchemaName}.{TableName}";

    /// <summary>The table, created with the rest of the schema at start.</summary>
    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("id").AsPrimaryKey();
        table.AddColumn("lane", "varchar").NotNull();
        table.AddColumn<long>("seq").BigAutoIncrement().NotNull();
        table.Indexes.Add(new IndexDefinition($"{TableName}_lane_seq") { Columns = ["lane", "seq"] });
        return table;
    }

    /// <summary>Queues the row of an input being stored in <paramref name="operations"/>' transaction.</summary>
    public static void Insert(IDocumentOperations operations, IArrived stored) =>
        operations.QueueSqlCommand($"insert into {Table(operations.DocumentStore)} (id, lane) values (?, ?)", stored.StoredAs!.Value, stored.Lane);

    /// <summary>Queues the delete of a stored input's row: it is done with once that transaction commits.</summary>
    public static void Remove(IDocumentOperations operations, Guid id) =>
        operations.QueueSqlCommand($"delete from {Table(operations.DocumentStore)} where id = ?", id);

    /// <summary>A stored input done with outside a handler's transaction: refused, or dead-lettered.</summary>
    public static async Task RemoveAsync(IDocumentStore store, IArrived input, CancellationToken ct)
    {
        if (input.StoredAs is not { } id)
        {
            return;
        }

        await using var session = store.LightweightSession();
        Remove(session, id);
        await session.SaveChangesAsync(ct);
    }

    /// <summary>Whether an input of the same lane was stored before this one and is not yet done with.</summary>
    public static async Task<bool> AnyBeforeAsync(IQuerySession session, Guid id, CancellationToken ct)
    {
        var table = Table(session.DocumentStore);
        var before = await session.QueryAsync<bool>(
            $"select exists(select 1 from {table} e join {table} m on m.id = ? and e.lane = m.lane and e.seq < m.seq)", ct, id);
        return before.Single();
    }

    /// <summary>How many inputs of each lane wait, stored by any node, this one before its start included.</summary>
    public static async Task<IReadOnlyDictionary<string, int>> WaitingAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var rows = await session.QueryAsync<string>($"select lane from {Table(store)}", ct);
        return rows.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
    }
}

/// <summary>Another input of the same lane, stored before this one, is not done with yet.</summary>
public sealed class EarlierInputWaiting(string lane) : Exception($"an input of lane {lane} stored before this one is not handled yet");

/// <summary>
/// Wolverine middleware on the handlers of inbound messages: a stored input is handled only after those of its lane
/// stored before it (<see cref="StoredInputs"/>), and its row goes in the handler's own transaction. An input the
/// bridge handles itself was never stored and has no row.
/// </summary>
public static class InTurn
{
    public static async Task BeforeAsync(Envelope envelope, IDocumentSession session, CancellationToken cancellation)
    {
        if (!envelope.WasPersistedInInbox || envelope.Message is not IArrived { StoredAs: { } id } input)
        {
            return;
        }

        if (await StoredInputs.AnyBeforeAsync(session, id, cancellation))
        {
            throw new EarlierInputWaiting(input.Lane);
        }

        StoredInputs.Remove(session, id);
    }
}
