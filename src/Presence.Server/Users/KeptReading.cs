using System.Data.Common;
using Marten;
using NpgsqlTypes;
using Presence.Domain.Hosts;
using Presence.Domain.Users;
using Weasel.Postgresql;
using Weasel.Storage;

namespace Presence.Server.Users;

/// <summary>
/// A decision made on what this node kept instead of what it read (<see cref="KeptSagas"/>, the house of
/// <see cref="HouseReads"/>), checked in the transaction that stores it: the rows of the house, or the sagas a seat
/// concerns, are still those the decision saw, or the transaction is rolled back with <see cref="KeptReadingChanged"/>,
/// a conflict that StoreRetries answers by deciding again on what is read. It goes to PostgreSQL in the commit's own
/// batch, so it costs no round trip: one statement that counts the rows there are and those still at the version kept
/// (matched by "id:version" in a hash join, as <see cref="Hosting.ChangedRows{T}"/> reads them). It runs after the
/// appends and before the session's upserts, where Marten puts a session's queued statements.
/// </summary>
/// <remarks>
/// A statement of Marten's batch with a result of its own, read here by position (Marten hands each operation's
/// result to it in turn). A PL/pgSQL procedure that raised instead cost a login 0.6–0.9 ms more in alternated
/// in-process runs: PostgreSQL planned its queries in every call.
/// </remarks>
public sealed class KeptReading : Marten.Internal.Operations.IStorageOperation
{
    private readonly string table;
    private readonly string[] keys;
    private readonly string? seat;
    private readonly string what;

    private KeptReading(string table, string[] keys, string? seat, string what)
    {
        this.table = table;
        this.keys = keys;
        this.seat = seat;
        this.what = what;
    }

    /// <summary>Checks at commit that the house's rows are still <paramref name="rows"/> (id:xmin).</summary>
    public static void HouseUnchanged(IDocumentSession session, string[] rows) =>
        session.QueueOperation(new KeptReading(session.DocumentStore.Options.Schema.For<HostState>(qualified: true), rows, null, "the house"));

    /// <summary>Checks at commit that the sagas <paramref name="seat"/> concerns are still <paramref name="sagas"/>.</summary>
    public static void SeatUnchanged(IDocumentSession session, string seat, IEnumerable<KeptSaga> sagas) =>
        session.QueueOperation(new KeptReading(session.DocumentStore.Options.Schema.For<UserSaga>(qualified: true),
            [.. sagas.Select(s => s.Key)], seat, $"the sagas at {seat}"));

    public Type DocumentType => typeof(KeptReading);

    public Weasel.Core.OperationRole Role() => Weasel.Core.OperationRole.Other;

    public void ConfigureCommand(ICommandBuilder builder, IStorageSession session)
    {
        // A saga's version is its stream's (mt_version), which this node knows after its own commits; a host row's is
        // the transaction that wrote it (xmin), as the house is read.
        var version = seat is null ? "t.xmin::text" : "t.mt_version::text";
        builder.Append($"select count(*), count(k.k) from {table} t left join unnest(");
        builder.AppendParameter(keys, NpgsqlDbType.Array | NpgsqlDbType.Text);
        builder.Append($") k(k) on k.k = t.id || ':' || {version}");
        if (seat is not null)
        {
            builder.Append(" where ");
            SagaIndex.AppendInvolving(builder, seat);
        }
    }

    public async Task PostprocessAsync(DbDataReader reader, IList<Exception> exceptions, CancellationToken token)
    {
        await reader.ReadAsync(token);
        var (rows, unchanged) = (reader.GetInt64(0), reader.GetInt64(1));
        if (rows != keys.Length || unchanged != keys.Length)
        {
            exceptions.Add(new KeptReadingChanged($"{what} changed since this node read it: {rows} rows, {unchanged} of the {keys.Length} kept unchanged"));
        }
    }
}

/// <summary>What a decision made without reading saw has changed: another writer came first (a conflict).</summary>
public sealed class KeptReadingChanged(string message) : Exception(message);
