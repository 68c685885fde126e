using Marten;

namespace Presence.Server.Hosting;

/// <summary>
/// Many documents of one type written by one statement, queued in a session: Marten writes each document with a
/// statement of its own. The lists are bound when the session saves, so they may still grow after this.
/// </summary>
public static class DocumentRows
{
    /// <param name="skipExisting">Leave a row already stored as it is (content-addressed documents); else an id stored
    /// already fails the transaction on the primary key.</param>
    public static void QueueInsert(IDocumentSession session, Type type, List<string> ids, List<string> documents, bool skipExisting = false)
    {
        var table = session.DocumentStore.Options.FindOrResolveDocumentType(type).TableName.QualifiedName;
        session.QueueSqlCommand(
            $"insert into {table} (id, data, mt_dotnet_type) select id, data, ? from unnest(?::varchar[], ?::jsonb[]) as doc(id, data)"
            + (skipExisting ? " on conflict (id) do nothing" : ""),
            type.FullName!, ids, documents);
    }
}
